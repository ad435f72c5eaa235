//! The world state and one month of docs/model.md section 4.
//!
//! A month is synchronous: every ally decides from the same start-of-month
//! quotes (steps 1, 4, 5, fused into one pass per ally, parallel where the
//! world is large enough to pay for it), then the sequential phases resolve
//! the decisions in a fixed order (ally id, requirement index) with the world
//! stream. Because each ally draws only from its own stream and resolution
//! order never depends on scheduling, the result is bit-identical for any
//! thread count.
//!
//! Orders live in one vector of slots; a slot is reused once its order has
//! ended and nothing that acts on it refers to it, so a run's memory follows
//! the orders in flight, not all it ever placed. Two kinds of stale
//! reference may outlive an order and are harmless by construction: an
//! overdue-ring entry (it carries the order's `seq` and is dropped when the
//! slot holds another order), and a cancelled order's queue entry (it has
//! nothing left to produce, and production returns before using its id).
//! Placement order is kept where the model needs it (approval and entry
//! buckets by appending in placement order, each ally's overdue list by
//! `seq`), never by sorting ids; `Order::seq` numbers orders in placement
//! order for the ledger.

use std::collections::VecDeque;
use std::sync::Arc;

use rand::{Rng, RngCore};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Poisson, StandardNormal};

use crate::behaviour::{
    Behaviours, LineView, Offer, Procurement, ProcurementBatch, Requirement as ReqView, OUTSIDE,
};
use crate::buffers::{clone_with_capacity, deque_with_capacity};
use crate::compiled::Compiled;
use crate::error::RunError;
use crate::ledger::{OrderRecord, Outcome};
use crate::metrics::{ExporterMonth, Recorder};
use crate::prefetch::{prefetch, AHEAD};
use crate::rng::{stream, StreamId};
use crate::scenario::{OwnerKind, Tier};

/// Worlds with at least this many allies run parts of a month in parallel
/// (when there is more than one rayon thread; see `World::on_rayon`).
/// Below it the fork/joins of a month (a few each, with a thread to wake)
/// cost more than they save: measured with `dibsim bench --scale K` on 2
/// threads, x10 (650 allies) ran at 0.95x, x20 (1,300) at 1.02x, x30
/// (1,950) at 1.15x; runs are parallel across replicates anyway.
pub const PARALLEL_ALLIES: usize = 1536;

/// Allies per task of the parallel decide. Each task writes its allies'
/// requirements and offers into one contiguous buffer of its own (kept
/// across months), so the parallel path touches memory as the sequential
/// one does; a fixed size keeps the tasks independent of the thread count.
const PREPARE_CHUNK: usize = 128;

/// Stages of step 7's pipeline in a large world (see
/// `World::produce_and_deliver`): one fork-join each a month.
const PIPELINE_STAGES: usize = 8;

const NO_ORDER: u32 = u32::MAX;

/// An order table of at least this many slots (104 bytes each: 1.7 MB) is
/// taken to be out of cache: placement then asks for the slots it will
/// write a few orders ahead (see `prefetch`). Below it the hint would cost
/// its instructions for nothing.
const FAR_ORDERS: usize = 16_384;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    AwaitingApproval,
    AwaitingEntry,
    Queued,
    Producing,
    Done,
    Cancelled,
    Denied,
}

/// One order, in a slot of the order table. `repr(C)`, widest fields
/// first: 104 bytes without padding, and [`Order::prefetch`] knows which
/// fields reach its last byte.
#[derive(Debug, Clone)]
#[repr(C)]
pub struct Order {
    pub size: f64,
    pub price_index: f64,
    pub quoted_wait: f64,
    pub produced: f64,
    pub excluded: u64,
    /// Its denial probability, deny_base_e x (1 - a(e, i)), worked out at
    /// placement (where the offer carries a(e, i)) so that step 6's
    /// decision reads no ally.
    pub p_deny: f64,
    /// Its place in its line's queue (see [`Queued::ticket`]).
    ticket: u64,
    /// Placement order over the run (slots are reused; this is not).
    pub seq: u64,
    /// TIV delivered in reported months (kept only with a ledger).
    pub delivered_reported: f64,
    pub ally: u32,
    pub line: u32,
    pub placed: i32,
    /// V_e in force when placed.
    pub variant_delay: i32,
    /// Month the order joined its line's queue.
    pub entry_month: i32,
    /// Month of the approval decision (`i32::MIN` before it).
    pub decided: i32,
    /// Month of the first delivery (`i32::MIN` before it).
    pub first_delivery: i32,
    pub category: u16,
    pub priority: bool,
    pub status: Status,
}

const _: () = assert!(
    std::mem::size_of::<Order>() == 104
        && std::mem::offset_of!(Order, ticket) == 48
        && std::mem::offset_of!(Order, status) == 103
);

impl Order {
    /// Asks for the cache lines of this order: 104 bytes meet at most
    /// three lines, and the fields at offsets 0, 48 and 103 lie in each of
    /// them (no two more than 64 bytes apart).
    #[inline(always)]
    fn prefetch(&self) {
        prefetch(&self.size);
        prefetch(&self.ticket);
        prefetch(&self.status);
    }
}

/// An order in its line's foreign queue, with what production and delivery
/// need kept inline: step 7 walks the queues every month and touches the
/// order table only when an order starts or finishes.
#[derive(Debug, Clone, Copy)]
struct Queued {
    id: u32,
    /// Increasing along the queue: a cancellation finds its entry by binary
    /// search instead of a scan.
    ticket: u64,
    entry_month: i32,
    priority: bool,
    size: f64,
    produced: f64,
    /// size / span_c: the most the order takes in a month.
    cap: f64,
    /// What it took in `taken_month` (the reserve pass and the main pass
    /// share the cap).
    taken_month: i32,
    taken: f64,
    /// (1 - alpha_i) x p_l: paid to the owner per TIV delivered.
    pay: f64,
    price_index: f64,
    region: u16,
}

/// A requirement waiting for a supplier (new this month or come back).
#[derive(Debug, Clone, Copy)]
struct Need {
    category: u16,
    size: f64,
    excluded: u64,
}

#[derive(Debug)]
struct AllyState {
    log_threat: f64,
    rng: ChaCha8Rng,
    /// Requirements that came back (denied or cancelled), for next month.
    returned: Vec<Need>,
    /// This month's requirements.
    needs: Vec<Need>,
    /// Overdue orders not yet started (step 8), in placement order.
    overdue: Vec<OpenOrder>,
    /// Orders this ally cancels this month, in `overdue`'s order (scratch).
    cancelled: Vec<u32>,
}

/// A fork's ally keeps its buffers' capacity, as a line does.
impl Clone for AllyState {
    fn clone(&self) -> Self {
        AllyState {
            log_threat: self.log_threat,
            rng: self.rng.clone(),
            returned: clone_with_capacity(&self.returned),
            needs: clone_with_capacity(&self.needs),
            overdue: clone_with_capacity(&self.overdue),
            cancelled: clone_with_capacity(&self.cancelled),
        }
    }
}

/// An order that may be cancelled (step 8). Ordered by `seq` (placement).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct OpenOrder {
    /// The order's `seq`: the slot may hold a later order by the time the
    /// entry is looked at.
    seq: u64,
    id: u32,
    ally: u32,
}

#[derive(Debug, Clone)]
struct OwnerState {
    cash: f64,
    rng: ChaCha8Rng,
}

/// One order's output of one month (or a line's domestic output of one
/// month), on its way: booked when its delivery month comes. That month is
/// kept once per month's run of a line's shipments
/// ([`LineState::shipping`]), not in each: in a large world the booking
/// streams tens of thousands of these a month from memory (they were made
/// `build_months` earlier), so their size is its cost.
#[derive(Debug, Clone, Copy)]
struct Shipment {
    order: u32,
    region: u16,
    /// The order's first output, and its last.
    first: bool,
    last: bool,
    tiv: f64,
    /// Of the order (unused for domestic output): see [`Queued`].
    pay: f64,
    price_index: f64,
}

const _: () = assert!(std::mem::size_of::<Shipment>() == 32);

#[derive(Debug, Default)]
pub struct LineState {
    pub online: bool,
    /// The line's own capacity has arrived (its online month has come). A new
    /// factory can bring a not-yet-built low-tier line online first.
    built: bool,
    pub capacity: f64,
    /// Capacity the line started with (or came online with): the decline floor.
    pub base_capacity: f64,
    /// (online month, TIV/month) ordered, not yet online.
    pipeline: Vec<(i32, f64)>,
    pub pipeline_total: f64,
    /// D_l: last month's domestic order, TIV/month.
    pub domestic_per_month: f64,
    /// (entry month, remaining TIV) of domestic orders.
    domestic_entries: VecDeque<(i32, f64)>,
    pub backlog_domestic: f64,
    queue_priority: VecDeque<Queued>,
    queue: VecDeque<Queued>,
    /// Unproduced TIV of all open foreign orders (awaiting approval, entry, queued).
    pub backlog_foreign: f64,
    pub backlog_foreign_priority: f64,
    /// Unproduced TIV of approved open foreign orders: the order book.
    pub backlog_foreign_approved: f64,
    shipments: VecDeque<Shipment>,
    /// (delivery month, count) of each month's run of `shipments`, in
    /// order: the runs at the front whose month has come are due (a later
    /// run waits behind an earlier one not yet due).
    shipping: VecDeque<(i32, u32)>,
    /// Tickets handed out to queue entries so far.
    tickets: u64,
    idle_months: u32,
    /// This month's (foreign, domestic) output, until it is booked.
    output: Option<(f64, f64)>,
    /// Orders that started or finished production this month, with what
    /// they have produced, until booked.
    started: Vec<(u32, f64)>,
    /// Cumulative TIV, for the conservation identity.
    pub ordered: f64,
    pub produced: f64,
    pub cancelled: f64,
    pub denied: f64,
}

impl LineState {
    /// A line whose queues start with room for a busy line's work, so that
    /// the month's hot path rarely has to grow them.
    fn reserved() -> LineState {
        LineState {
            pipeline: Vec::with_capacity(8),
            domestic_entries: VecDeque::with_capacity(RESERVE_SMALL),
            queue: VecDeque::with_capacity(RESERVE_SMALL),
            queue_priority: VecDeque::with_capacity(8),
            shipments: VecDeque::with_capacity(RESERVE_QUEUE),
            shipping: VecDeque::with_capacity(RESERVE_SMALL),
            started: Vec::with_capacity(RESERVE_SMALL),
            ..LineState::default()
        }
    }
}

/// Starting capacities of the buffers the month reuses: a busy line's queue
/// and in-flight shipments, an ally's overdue orders, a month's bucket. They
/// only spare the first months' growth; nothing depends on them.
const RESERVE_SMALL: usize = 32;
const RESERVE_QUEUE: usize = 128;
const RESERVE_ORDERS: usize = 4096;

/// Quote terms of a line at the start of a month (docs/model.md step 2).
#[derive(Debug, Clone, Copy, Default)]
struct Quote {
    live: bool,
    foreign_capacity: f64,
    /// max(A + V, B / K_f) for ordinary and for priority-partner requirements.
    head: f64,
    head_priority: f64,
    spread: f64,
    spread_priority: f64,
    build: f64,
}

/// Per-exporter accumulators of the current month.
#[derive(Debug, Clone, Default)]
struct MonthAcc {
    orders_tiv: f64,
    deliveries_tiv: f64,
    deliveries_domestic_tiv: f64,
    revenue: f64,
    production: f64,
    quoted_sum: f64,
    realised_sum: f64,
    completions: u32,
    cancellations: u32,
    denials: u32,
}

/// Order ids by the month they are due (an approval decision, a queue
/// entry): a ring of buckets indexed by month, whose vectors are reused, so
/// that filing and taking a month allocates nothing once the ring has gone
/// round. It grows (rarely) when an order is due further ahead than it spans.
#[derive(Debug)]
struct MonthBuckets {
    buckets: Vec<Vec<u32>>,
}

/// A fork's line keeps its queues' capacity: a derived clone would keep
/// only their lengths, and the forked run would grow them again, copying
/// every entry, in its first busy months.
impl Clone for LineState {
    fn clone(&self) -> Self {
        LineState {
            online: self.online,
            built: self.built,
            capacity: self.capacity,
            base_capacity: self.base_capacity,
            pipeline: clone_with_capacity(&self.pipeline),
            pipeline_total: self.pipeline_total,
            domestic_per_month: self.domestic_per_month,
            domestic_entries: deque_with_capacity(&self.domestic_entries, Clone::clone),
            backlog_domestic: self.backlog_domestic,
            queue_priority: deque_with_capacity(&self.queue_priority, Clone::clone),
            queue: deque_with_capacity(&self.queue, Clone::clone),
            backlog_foreign: self.backlog_foreign,
            backlog_foreign_priority: self.backlog_foreign_priority,
            backlog_foreign_approved: self.backlog_foreign_approved,
            shipments: deque_with_capacity(&self.shipments, Clone::clone),
            shipping: deque_with_capacity(&self.shipping, Clone::clone),
            tickets: self.tickets,
            idle_months: self.idle_months,
            output: self.output,
            started: clone_with_capacity(&self.started),
            ordered: self.ordered,
            produced: self.produced,
            cancelled: self.cancelled,
            denied: self.denied,
        }
    }
}

/// A clone keeps each bucket's capacity ([`clone_with_capacity`]).
impl Clone for MonthBuckets {
    fn clone(&self) -> Self {
        MonthBuckets {
            buckets: self.buckets.iter().map(clone_with_capacity).collect(),
        }
    }
}

impl MonthBuckets {
    fn new() -> MonthBuckets {
        MonthBuckets {
            buckets: (0..128)
                .map(|_| Vec::with_capacity(RESERVE_SMALL))
                .collect(),
        }
    }

    fn slot(&self, month: i32) -> usize {
        month.rem_euclid(self.buckets.len() as i32) as usize
    }

    /// Files `id` under `month`, in month `now` (<= month; an earlier month
    /// would never come up, so the order is never due, as with a map).
    fn push(&mut self, now: i32, month: i32, id: u32) {
        if month < now {
            return;
        }
        let ahead = (month - now) as usize;
        if ahead >= self.buckets.len() {
            self.grow(now, ahead + 1);
        }
        let k = self.slot(month);
        self.buckets[k].push(id);
    }

    /// Re-files the months [now, now + len) into a ring of at least `span`.
    fn grow(&mut self, now: i32, span: usize) {
        let old = std::mem::take(&mut self.buckets);
        let len = span.next_power_of_two();
        self.buckets = vec![Vec::new(); len];
        let old_len = old.len() as i32;
        let mut old = old;
        for m in now..now + old_len {
            let from = m.rem_euclid(old_len) as usize;
            let to = self.slot(m);
            self.buckets[to] = std::mem::take(&mut old[from]);
        }
    }

    /// The ids due in `month`, in filing order; hand the vector back with
    /// [`MonthBuckets::put_back`] to keep its capacity.
    fn take(&mut self, month: i32) -> Vec<u32> {
        let k = self.slot(month);
        std::mem::take(&mut self.buckets[k])
    }

    /// Nothing is filed while a month's bucket is out: approvals are filed
    /// in `place_orders`, entries before their bucket is taken, and no
    /// order is due a full lap of the ring ahead (`push` grows it first).
    fn put_back(&mut self, month: i32, mut ids: Vec<u32>) {
        ids.clear();
        let k = self.slot(month);
        debug_assert!(self.buckets[k].is_empty(), "a bucket was filed while taken");
        self.buckets[k] = ids;
    }
}

/// Orders by the month they become overdue: a ring of `DUE_RING` monthly
/// buckets, and beyond its reach a list re-filed every half lap. Unlike
/// [`MonthBuckets`] the ring's length is fixed (its buckets and the far list
/// grow to their high-water marks): an order can be due years ahead, and a
/// ring that long would allocate each bucket the first time round. An
/// entry stays until its month even if its order ended earlier, so the
/// ring holds the orders placed within about patience x quoted wait.
#[derive(Debug)]
struct DueRing {
    buckets: Vec<Vec<OpenOrder>>,
    /// (month, order) due at or after the ring's reach when filed.
    far: Vec<(i32, OpenOrder)>,
}

const DUE_RING: usize = 128;

/// A clone keeps each bucket's capacity, as [`MonthBuckets`]'s does.
impl Clone for DueRing {
    fn clone(&self) -> Self {
        DueRing {
            buckets: self.buckets.iter().map(clone_with_capacity).collect(),
            far: clone_with_capacity(&self.far),
        }
    }
}

impl DueRing {
    fn new() -> DueRing {
        DueRing {
            buckets: (0..DUE_RING)
                .map(|_| Vec::with_capacity(RESERVE_SMALL))
                .collect(),
            far: Vec::with_capacity(RESERVE_QUEUE),
        }
    }

    fn slot(month: i32) -> usize {
        month.rem_euclid(DUE_RING as i32) as usize
    }

    /// Files `entry` under `month` (>= `now`).
    fn push(&mut self, now: i32, month: i32, entry: OpenOrder) {
        debug_assert!(month >= now);
        if ((month - now) as usize) < DUE_RING {
            self.buckets[Self::slot(month)].push(entry);
        } else {
            self.far.push((month, entry));
        }
    }

    /// The entries due in `month`, in no particular order; hand the vector
    /// back with [`DueRing::put_back`]. Every half lap, far entries now
    /// within reach move into the ring first.
    fn take(&mut self, month: i32) -> Vec<OpenOrder> {
        if month.rem_euclid(DUE_RING as i32 / 2) == 0 && !self.far.is_empty() {
            let buckets = &mut self.buckets;
            self.far.retain(|&(m, entry)| {
                if ((m - month) as usize) < DUE_RING {
                    buckets[Self::slot(m)].push(entry);
                    false
                } else {
                    true
                }
            });
        }
        std::mem::take(&mut self.buckets[Self::slot(month)])
    }

    fn put_back(&mut self, month: i32, mut due: Vec<OpenOrder>) {
        due.clear();
        let k = Self::slot(month);
        debug_assert!(self.buckets[k].is_empty(), "a bucket was filed while taken");
        self.buckets[k] = due;
    }
}

/// One simulation: state, behaviours and recorder. Clone it to fork.
pub struct World {
    cfg: Arc<Compiled>,
    behaviours: Behaviours,
    /// Month about to be simulated.
    month: i32,
    world_rng: ChaCha8Rng,
    allies: Vec<AllyState>,
    /// Beside `allies`: how many entries each ally's overdue list holds, so
    /// step 8 passes over allies with nothing overdue (in a large world,
    /// most of them every month) without touching their state at all.
    overdue_listed: Vec<u32>,
    owners: Vec<OwnerState>,
    lines: Vec<LineState>,
    reputation: Vec<f64>,
    orders: Vec<Order>,
    /// Slots of `orders` whose order has ended and which nothing refers to
    /// any more, reused by new orders (last freed, first reused).
    free_orders: Vec<u32>,
    /// Orders that ended this month: free once the month is over, when no
    /// queue, list or bucket holds them.
    ended_orders: Vec<u32>,
    approvals: MonthBuckets,
    entries: MonthBuckets,
    /// Open orders by the month they become overdue (step 8), filed at
    /// placement; an order still unstarted then joins its ally's list.
    overdue: DueRing,
    /// Orders placed so far: the next order's `seq`.
    placed_orders: u64,
    /// Records of ended orders, when the run keeps a ledger.
    ledger: Option<Vec<OrderRecord>>,
    /// This month's foreign deliveries by (exporter, region) and by
    /// (exporter, category), flat: for attributing a share change.
    by_region_acc: Vec<f64>,
    by_category_acc: Vec<f64>,
    quotes: Vec<Quote>,
    acc: Vec<MonthAcc>,
    /// Foreign deliveries received this month, by ally region.
    region_acc: Vec<f64>,
    recorder: Recorder,
    /// This month's metrics, reused every month.
    rows: Vec<ExporterMonth>,
    /// This month's requirements and offers, reused every month.
    month_batch: MonthBatch,
    /// The parallel decide's output, one per [`PREPARE_CHUNK`] allies.
    prepared_chunks: Vec<PreparedChunk>,
    /// Step 6's scratch: the statuses of the orders it decides or enters.
    statuses: Vec<Status>,
    /// Investment scratch buffers, reused.
    invest_views: Vec<LineView>,
    invest_tranches: Vec<f64>,
    /// The last approval lag's lognormal terms (ln and sqrt of them are the
    /// same for every order of an exporter in a month).
    lag_terms: LagTerms,
    /// Whether the month's per-ally and per-line phases run on rayon, if
    /// forced ([`World::set_parallel`]); else see [`World::on_rayon`].
    /// Either way gives the same bytes.
    parallel: Option<bool>,
}

/// A fork: every buffer keeps the capacity the run it comes from had grown
/// to ([`clone_with_capacity`]), so that the forked run, like the original
/// once settled, allocates (almost) nothing (`tests/allocations.rs`).
impl Clone for World {
    fn clone(&self) -> Self {
        World {
            cfg: Arc::clone(&self.cfg),
            behaviours: self.behaviours.clone(),
            month: self.month,
            world_rng: self.world_rng.clone(),
            allies: self.allies.clone(),
            overdue_listed: self.overdue_listed.clone(),
            owners: self.owners.clone(),
            lines: clone_with_capacity(&self.lines),
            reputation: self.reputation.clone(),
            orders: clone_with_capacity(&self.orders),
            free_orders: clone_with_capacity(&self.free_orders),
            ended_orders: clone_with_capacity(&self.ended_orders),
            approvals: self.approvals.clone(),
            entries: self.entries.clone(),
            overdue: self.overdue.clone(),
            placed_orders: self.placed_orders,
            ledger: self.ledger.as_ref().map(clone_with_capacity),
            by_region_acc: self.by_region_acc.clone(),
            by_category_acc: self.by_category_acc.clone(),
            quotes: clone_with_capacity(&self.quotes),
            acc: self.acc.clone(),
            region_acc: self.region_acc.clone(),
            recorder: self.recorder.clone(),
            rows: clone_with_capacity(&self.rows),
            month_batch: self.month_batch.clone(),
            prepared_chunks: self.prepared_chunks.clone(),
            statuses: clone_with_capacity(&self.statuses),
            invest_views: clone_with_capacity(&self.invest_views),
            invest_tranches: clone_with_capacity(&self.invest_tranches),
            lag_terms: self.lag_terms,
            parallel: self.parallel,
        }
    }
}

/// Steps 1, 4 and the offers of step 5 for ally `i`: its threat, its
/// requirements (appended to `reqs`) and the offers each gets (appended to
/// `offers`, with `offer_start` counted from `base`). Every draw comes from
/// the ally's own stream, so the order allies are prepared in does not matter.
#[allow(clippy::too_many_arguments)]
fn prepare_ally(
    cfg: &Compiled,
    quotes: &[Quote],
    reputation: &[f64],
    first: bool,
    partners_on: bool,
    t: i32,
    i: usize,
    ally: &mut AllyState,
    reqs: &mut Vec<ReqView>,
    excluded: &mut Vec<u64>,
    offers: &mut Vec<Offer>,
    base: u32,
) {
    let ap = &cfg.allies[i];
    // Step 1: threat.
    if !first {
        let eps: f64 = ally.rng.sample(StandardNormal);
        ally.log_threat = cfg.scenario.model.threat_persistence * ally.log_threat
            + cfg.scenario.model.threat_sd * eps;
    }
    // Step 4: requirements; those that came back go first.
    ally.needs.clear();
    ally.needs.append(&mut ally.returned);
    let factors = cfg
        .events
        .iter()
        .filter(|&&(r, _, from, to)| r == ap.region && t >= from && t < to)
        .map(|&(_, f, _, _)| f);
    let Some((threat, n)) = threat_and_count(
        ally.log_threat,
        factors,
        ap.import_budget,
        ap.mean_size,
        ally.needs.is_empty(),
        &mut ally.rng,
    ) else {
        // Nothing came back, nothing new: step 5 (the rest of this
        // function) has no requirement to make offers for.
        return;
    };
    for _ in 0..n {
        let u: f64 = ally.rng.gen();
        let c = ap
            .mix_cdf
            .iter()
            .position(|&x| u < x)
            .unwrap_or(ap.mix_cdf.len() - 1);
        let cp = &cfg.categories[c];
        let z: f64 = ally.rng.sample(StandardNormal);
        ally.needs.push(Need {
            category: c as u16,
            size: (cp.size_mu + cp.size_sigma * z).exp(),
            excluded: 0,
        });
    }
    // Step 5: the offers for each requirement (the behaviour chooses later).
    let partner = partners_on && ap.priority_partner;
    for need in &ally.needs {
        let start = offers.len() as u32 - base;
        for &li in &cfg.lines_by_category[need.category as usize] {
            let q = &quotes[li as usize];
            if !q.live {
                continue;
            }
            let lp = &cfg.lines[li as usize];
            let e = lp.exporter;
            let a = ap.alignment[e];
            if a <= 0.0 || need.excluded & (1u64 << e) != 0 {
                continue;
            }
            let focal_partner = partner && e == cfg.focal;
            let (head, spread) = if focal_partner {
                (q.head_priority, q.spread_priority)
            } else {
                (q.head, q.spread)
            };
            let span = cfg.categories[lp.category].span;
            let wait = head + (need.size / q.foreign_capacity).max(span) + q.build;
            offers.push(Offer {
                line: li,
                exporter: e as u32,
                quality: lp.quality,
                price_index: lp.price_index,
                wait_months: wait,
                spread_months: spread,
                alignment: a,
                reputation: reputation[e],
                draw: open_unit(&mut ally.rng),
            });
        }
        excluded.push(need.excluded);
        reqs.push(ReqView {
            ally: i as u32,
            category: need.category as u32,
            size: need.size,
            threat,
            outside_draw: open_unit(&mut ally.rng),
            offer_start: start,
            offer_count: offers.len() as u32 - base - start,
        });
    }
}

/// The share of capacity exporter `e` reserves for export orders in month
/// `t` (the focal exporter's lever, while the policy is on).
fn export_reserve(cfg: &Compiled, e: usize, t: i32) -> f64 {
    if e == cfg.focal && cfg.policy_on(t) {
        cfg.scenario.policy.export_reserve
    } else {
        0.0
    }
}

/// Step 8's check for one ally: each overdue order not yet started is
/// cancelled with probability `p_cancel`, one draw from the ally's stream
/// per such order, in placement order; cancelled ids go to
/// `ally.cancelled`. An order that has started (or ended) leaves the list
/// without a draw: an order never returns to unstarted.
fn overdue_cancellations(orders: &[Order], ally: &mut AllyState, p_cancel: f64) {
    let AllyState {
        overdue,
        rng,
        cancelled,
        ..
    } = ally;
    overdue.retain(|entry| {
        let o = &orders[entry.id as usize];
        if o.seq != entry.seq || !unstarted(o.status) {
            return false;
        }
        if rng.gen::<f64>() >= p_cancel {
            return true;
        }
        cancelled.push(entry.id);
        false
    });
}

/// The statuses of orders `ids`, in one pass before the pass that acts on
/// them: the loads are independent, so in a large world the misses on the
/// order table overlap instead of coming one at a time.
fn gather_statuses(orders: &[Order], ids: &[u32], statuses: &mut Vec<Status>) {
    statuses.clear();
    statuses.extend(ids.iter().map(|&id| orders[id as usize].status));
}

/// Nothing produced yet: awaiting approval or entry, or queued.
fn unstarted(status: Status) -> bool {
    matches!(
        status,
        Status::AwaitingApproval | Status::AwaitingEntry | Status::Queued
    )
}

/// The first month an order placed in `placed` is overdue, that is, its age
/// `(t - placed) as f64` exceeds `limit` (patience x quoted wait); `None`
/// when that is after the run's last month (`months`, exclusive).
fn overdue_from(placed: i32, limit: f64, months: i32) -> Option<i32> {
    // For whole ages a: a > limit <=> a >= floor(limit) + 1 (limit >= 0).
    let first = if limit.is_nan() || limit < 0.0 {
        placed
    } else if limit >= f64::from(months) - f64::from(placed) {
        return None;
    } else {
        placed + limit.floor() as i32 + 1
    };
    (first < months).then_some(first)
}

/// Step 5 for one batch: the behaviour's choices, each checked to be an
/// offer of its requirement or `OUTSIDE`; a fault names the behaviour, the
/// ally and the month.
fn choose_checked(
    cfg: &Compiled,
    behaviour: &dyn Procurement,
    batch: &ProcurementBatch<'_>,
    choices: &mut [i32],
) -> Result<(), RunError> {
    let fault = |item: Option<usize>, message: String| RunError::Behaviour {
        behaviour: behaviour.name().to_string(),
        slot: "ally procurement",
        agent: match item.and_then(|k| batch.requirements.get(k)) {
            Some(req) => cfg.scenario.allies[req.ally as usize].name.clone(),
            None => batch_allies(cfg, batch.requirements),
        },
        month: batch.month,
        start_year: cfg.scenario.start_year,
        message,
    };
    behaviour
        .choose(batch, choices)
        .map_err(|f| fault(f.item, f.message))?;
    for (k, (&c, req)) in choices.iter().zip(batch.requirements).enumerate() {
        if c != OUTSIDE && (c < 0 || c as u32 >= req.offer_count) {
            return Err(fault(
                Some(k),
                if req.offer_count == 0 {
                    format!("requirement {k} of the batch chose offer {c}, but it has no offers (valid: -1 for none)")
                } else {
                    format!(
                        "requirement {k} of the batch chose offer {c}, but it has {} offers (valid: -1 for none, 0 to {})",
                        req.offer_count,
                        req.offer_count - 1
                    )
                },
            ));
        }
    }
    Ok(())
}

/// Up to five names, then how many more: "A, B and 3 more".
fn name_list(names: &[&str]) -> String {
    let mut v: Vec<&str> = Vec::new();
    for n in names {
        if !v.contains(n) {
            v.push(n);
        }
    }
    match v.len() {
        0 => "no agent".into(),
        1 => v[0].to_string(),
        n if n <= 5 => format!("{} and {}", v[..n - 1].join(", "), v[n - 1]),
        n => format!("{} and {} more", v[..5].join(", "), n - 5),
    }
}

/// The allies of a batch, for a fault no single requirement caused (a
/// panic, an error without an index).
fn batch_allies(cfg: &Compiled, reqs: &[ReqView]) -> String {
    let names: Vec<&str> = reqs
        .iter()
        .map(|r| cfg.scenario.allies[r.ally as usize].name.as_str())
        .collect();
    name_list(&names)
}

/// One month's requirements and offers of every ally, in ally order, cut
/// into batches of consecutive allies that share a procurement behaviour:
/// each batch is one call, and its buffers are slices of these, so nothing
/// is copied on the way to a behaviour (or a plugin).
#[derive(Debug, Default)]
struct MonthBatch {
    reqs: Vec<ReqView>,
    /// Per requirement, beside `reqs`: the exporters it excludes (step 6
    /// then reads the month's requirements in sequence, not each ordering
    /// ally's state: a cache miss each in a large world).
    excluded: Vec<u64>,
    offers: Vec<Offer>,
    choices: Vec<i32>,
    /// Per requirement, beside `reqs`: where its batch's offers start (its
    /// `offer_start` counts from there). Nothing is kept per ally: in a
    /// large world most allies have no requirement in a month, and step 6
    /// walks the requirements (each names its ally), not the allies.
    offer_base: Vec<u32>,
    batches: Vec<BatchSpan>,
    open_slot: Option<u16>,
    open_reqs: u32,
    open_offers: u32,
}

/// Requirements and offers of [`PREPARE_CHUNK`] consecutive allies, as
/// the parallel decide prepared them (offer starts count from the chunk's
/// first offer).
#[derive(Debug, Default)]
struct PreparedChunk {
    reqs: Vec<ReqView>,
    /// Beside `reqs`, as in [`MonthBatch`].
    excluded: Vec<u64>,
    offers: Vec<Offer>,
    /// Per ally of the chunk: where its requirements and offers end.
    ends: Vec<(u32, u32)>,
    /// When the chunk's allies share a behaviour that chooses requirement
    /// by requirement ([`Procurement::per_requirement`]): its choices, made
    /// in the parallel pass (else empty, and chosen later in a batch).
    choices: Vec<i32>,
    chosen: bool,
    fault: Option<RunError>,
}

/// Scratch buffers keep their capacity in a fork ([`clone_with_capacity`]).
impl Clone for PreparedChunk {
    fn clone(&self) -> Self {
        PreparedChunk {
            reqs: clone_with_capacity(&self.reqs),
            excluded: clone_with_capacity(&self.excluded),
            offers: clone_with_capacity(&self.offers),
            ends: clone_with_capacity(&self.ends),
            choices: clone_with_capacity(&self.choices),
            chosen: self.chosen,
            fault: None,
        }
    }
}

impl Clone for MonthBatch {
    fn clone(&self) -> Self {
        MonthBatch {
            reqs: clone_with_capacity(&self.reqs),
            excluded: clone_with_capacity(&self.excluded),
            offers: clone_with_capacity(&self.offers),
            choices: clone_with_capacity(&self.choices),
            offer_base: clone_with_capacity(&self.offer_base),
            batches: clone_with_capacity(&self.batches),
            open_slot: self.open_slot,
            open_reqs: self.open_reqs,
            open_offers: self.open_offers,
        }
    }
}

#[derive(Debug, Clone)]
struct BatchSpan {
    slot: u16,
    reqs: std::ops::Range<u32>,
    offers: std::ops::Range<u32>,
}

impl MonthBatch {
    fn clear(&mut self) {
        self.reqs.clear();
        self.excluded.clear();
        self.offers.clear();
        self.choices.clear();
        self.offer_base.clear();
        self.batches.clear();
        self.open_slot = None;
        self.open_reqs = 0;
        self.open_offers = 0;
    }

    fn batch_offer_start(&self) -> u32 {
        self.open_offers
    }

    /// Starts an ally's requirements, opening a new batch if its behaviour
    /// differs from the previous ally's (whether or not either has any).
    fn open(&mut self, slot: u16) {
        if self.open_slot != Some(slot) {
            self.finish();
            self.open_slot = Some(slot);
            self.open_reqs = self.reqs.len() as u32;
            self.open_offers = self.offers.len() as u32;
        }
    }

    /// Ends an ally's requirements (pushed to `reqs` since `open`).
    fn close_ally(&mut self) {
        self.offer_base.resize(self.reqs.len(), self.open_offers);
    }

    /// Appends a chunk of allies that share one behaviour `slot` (so one
    /// batch): `open`, a copy and `close_ally` per ally, in bulk.
    fn append_chunk(&mut self, slot: u16, chunk: &PreparedChunk) {
        if chunk.ends.is_empty() {
            return;
        }
        self.open(slot);
        let shift = self.offers.len() as u32 - self.open_offers;
        self.reqs.extend(chunk.reqs.iter().map(|r| ReqView {
            offer_start: r.offer_start + shift,
            ..*r
        }));
        self.excluded.extend_from_slice(&chunk.excluded);
        self.offers.extend_from_slice(&chunk.offers);
        self.choices.resize(self.reqs.len(), OUTSIDE);
        self.close_ally();
    }

    /// Appends a chunk whose choices are made (outside any batch): each
    /// requirement with the one offer it chose (its choice becomes 0), so
    /// the month's other offers are never copied.
    fn append_chosen(&mut self, chunk: &PreparedChunk) {
        self.finish();
        self.excluded.extend_from_slice(&chunk.excluded);
        let base = self.offers.len() as u32;
        self.offer_base
            .extend(std::iter::repeat_n(base, chunk.reqs.len()));
        for (r, &c) in chunk.reqs.iter().zip(&chunk.choices) {
            let offer_start = self.offers.len() as u32 - base;
            let offer_count = if c == OUTSIDE {
                0
            } else {
                self.offers
                    .push(chunk.offers[(r.offer_start + c as u32) as usize]);
                1
            };
            self.reqs.push(ReqView {
                offer_start,
                offer_count,
                ..*r
            });
            self.choices.push(if c == OUTSIDE { OUTSIDE } else { 0 });
        }
    }

    /// Closes the open batch (an empty one is dropped).
    fn finish(&mut self) {
        if let Some(slot) = self.open_slot.take() {
            let reqs = self.open_reqs..self.reqs.len() as u32;
            if !reqs.is_empty() {
                self.batches.push(BatchSpan {
                    slot,
                    reqs,
                    offers: self.open_offers..self.offers.len() as u32,
                });
            }
        }
    }
}

impl World {
    /// A world at the first warm-up month: empty queues, reputations 1.
    pub fn new(cfg: Arc<Compiled>, behaviours: Behaviours, seed: u64) -> Result<World, RunError> {
        if behaviours.ally_procurement.len() != cfg.allies.len()
            || behaviours.owner_investment.len() != cfg.owners.len()
        {
            return Err(RunError::Setup(
                "behaviour assignment does not match the scenario's agents".into(),
            ));
        }
        let behaviours = behaviours.for_run().map_err(|(name, f)| {
            RunError::Setup(format!(
                "behaviour `{name}` could not start a run: {}",
                f.message
            ))
        })?;
        let allies = (0..cfg.allies.len())
            .map(|i| AllyState {
                log_threat: 0.0,
                rng: stream(seed, StreamId::Ally(i as u32)),
                returned: Vec::with_capacity(RESERVE_SMALL),
                needs: Vec::with_capacity(RESERVE_SMALL),
                overdue: Vec::with_capacity(RESERVE_QUEUE),
                cancelled: Vec::with_capacity(RESERVE_SMALL),
            })
            .collect();
        let owners = cfg
            .owners
            .iter()
            .enumerate()
            .map(|(i, o)| OwnerState {
                cash: o.cash,
                rng: stream(seed, StreamId::Owner(i as u32)),
            })
            .collect();
        let start = -cfg.warmup;
        let lines = cfg
            .lines
            .iter()
            .map(|l| {
                let online = l.online_month <= start;
                LineState {
                    online,
                    built: online,
                    capacity: if online { l.capacity } else { 0.0 },
                    base_capacity: l.capacity,
                    ..LineState::reserved()
                }
            })
            .collect();
        let nexp = cfg.exporters.len();
        let recorder = Recorder::new(&cfg);
        Ok(World {
            month: start,
            world_rng: stream(seed, StreamId::World),
            overdue_listed: vec![0; cfg.allies.len()],
            allies,
            owners,
            lines,
            reputation: vec![1.0; nexp],
            orders: Vec::with_capacity(RESERVE_ORDERS),
            free_orders: Vec::with_capacity(RESERVE_QUEUE),
            ended_orders: Vec::with_capacity(RESERVE_QUEUE),
            approvals: MonthBuckets::new(),
            entries: MonthBuckets::new(),
            overdue: DueRing::new(),
            placed_orders: 0,
            ledger: None,
            by_region_acc: vec![0.0; nexp * cfg.regions.len()],
            by_category_acc: vec![0.0; nexp * cfg.categories.len()],
            quotes: vec![Quote::default(); cfg.lines.len()],
            acc: vec![MonthAcc::default(); nexp],
            region_acc: vec![0.0; cfg.regions.len()],
            recorder,
            rows: vec![ExporterMonth::default(); nexp],
            month_batch: MonthBatch::default(),
            prepared_chunks: Vec::new(),
            statuses: Vec::with_capacity(RESERVE_QUEUE),
            invest_views: Vec::new(),
            invest_tranches: Vec::new(),
            lag_terms: LagTerms::default(),
            parallel: None,
            behaviours,
            cfg,
        })
    }

    pub fn month(&self) -> i32 {
        self.month
    }

    pub fn config(&self) -> &Arc<Compiled> {
        &self.cfg
    }

    pub fn lines(&self) -> &[LineState] {
        &self.lines
    }

    pub fn orders(&self) -> &[Order] {
        &self.orders
    }

    pub fn reputation(&self) -> &[f64] {
        &self.reputation
    }

    pub fn recorder(&self) -> &Recorder {
        &self.recorder
    }

    /// Keep a record of every order from here on (call before running).
    pub fn keep_ledger(&mut self) {
        self.ledger.get_or_insert_with(Vec::new);
    }

    /// The ledger so far, with a record for each order still open, in
    /// placement order (`None` unless [`World::keep_ledger`] was called).
    pub fn ledger(&self) -> Option<Vec<OrderRecord>> {
        self.ledger.clone().map(|done| self.with_open_orders(done))
    }

    /// The recorder and the ledger (with the open orders), without copying.
    pub fn into_parts(mut self) -> (Recorder, Option<Vec<OrderRecord>>) {
        let ledger = self.ledger.take().map(|done| self.with_open_orders(done));
        (self.recorder, ledger)
    }

    fn with_open_orders(&self, mut out: Vec<OrderRecord>) -> Vec<OrderRecord> {
        let ended = |s: Status| matches!(s, Status::Done | Status::Cancelled | Status::Denied);
        // Slots of ended orders keep their ended status until reused.
        out.extend(self.orders.iter().filter(|o| !ended(o.status)).map(|o| {
            let outcome = if o.status == Status::AwaitingApproval {
                Outcome::Open
            } else {
                Outcome::Approved
            };
            record(o, outcome, None)
        }));
        // Placement numbers are unique: any sort gives the same order.
        if self.on_rayon() {
            use rayon::prelude::*;
            out.par_sort_unstable_by_key(|r| r.seq);
        } else {
            out.sort_unstable_by_key(|r| r.seq);
        }
        out
    }

    pub fn into_recorder(self) -> Recorder {
        self.recorder
    }

    /// Runs the month's per-ally and per-line phases on rayon or not,
    /// whatever the world's size (the default: at least [`PARALLEL_ALLIES`]
    /// allies). The output is the same either way; tests use this to show it.
    pub fn set_parallel(&mut self, on: bool) {
        self.parallel = Some(on);
    }

    /// Whether this month's parallel phases go to rayon: in a world of at
    /// least [`PARALLEL_ALLIES`] allies with more than one thread to run on
    /// (one thread does the same work faster in one pass), unless forced.
    fn on_rayon(&self) -> bool {
        self.parallel.unwrap_or_else(|| {
            self.allies.len() >= PARALLEL_ALLIES && rayon::current_num_threads() > 1
        })
    }

    /// Whether the simulation has reached its last month.
    pub fn finished(&self) -> bool {
        self.month >= self.cfg.months
    }

    /// Runs months until `month` (exclusive) or the end.
    pub fn run_until(&mut self, month: i32) -> Result<(), RunError> {
        if self.on_rayon() && rayon::current_thread_index().is_none() {
            // A large world's months on a pool thread: each parallel phase
            // then starts on this thread at once, and only the others need
            // waking, instead of the caller handing every phase to the pool
            // and sleeping until it is done (a wake-up each way, some
            // 20-60 us on this kind of machine, several times a month).
            return rayon::scope(|_| self.run_until(month));
        }
        while self.month < month.min(self.cfg.months) {
            self.step()?;
        }
        Ok(())
    }

    pub fn run(&mut self) -> Result<(), RunError> {
        self.run_until(self.cfg.months)
    }

    /// Continues this world under another scenario that differs only in its
    /// policy levers, from a month before they start (the shared prefix of
    /// `compare` and sweeps). The caller checks the scenarios agree.
    pub fn fork(&self, cfg: Arc<Compiled>) -> Result<World, RunError> {
        if self.month > cfg.scenario.policy.start_month {
            return Err(RunError::Setup(format!(
                "cannot fork at month {} after the policy starts at month {}",
                self.month, cfg.scenario.policy.start_month
            )));
        }
        let mut w = self.clone();
        while w.lines.len() < cfg.lines.len() {
            let l = &cfg.lines[w.lines.len()];
            w.lines.push(LineState {
                base_capacity: l.capacity,
                ..LineState::reserved()
            });
        }
        w.quotes.resize(cfg.lines.len(), Quote::default());
        w.cfg = cfg;
        // The behaviours go on with this run's state (a plugin's); forkable
        // scenarios have the same plugins, so they are the variant's too.
        w.behaviours = self.behaviours.fork();
        Ok(w)
    }

    /// One month, docs/model.md s.4 steps 1-11.
    pub fn step(&mut self) -> Result<(), RunError> {
        let t = self.month;
        for a in &mut self.acc {
            *a = MonthAcc::default();
        }
        self.region_acc.iter_mut().for_each(|x| *x = 0.0);
        self.by_region_acc.iter_mut().for_each(|x| *x = 0.0);
        self.by_category_acc.iter_mut().for_each(|x| *x = 0.0);
        self.bring_online(t);
        self.quote(t);
        self.domestic_orders();
        self.decide(t)?;
        self.place_orders(t);
        self.decide_approvals(t);
        self.produce_and_deliver(t);
        self.cancel(t);
        self.free_orders.append(&mut self.ended_orders);
        self.invest(t)?;
        self.record(t);
        self.month += 1;
        Ok(())
    }

    #[inline(never)] // a phase of the month: one frame each in a profile
    fn bring_online(&mut self, t: i32) {
        let cfg = &*self.cfg;
        for (li, line) in self.lines.iter_mut().enumerate() {
            if !line.built && cfg.lines[li].online_month <= t {
                // Added, not set: a new factory may already have brought
                // the line online with its own capacity (docs/model.md §9,
                // "Levers").
                line.built = true;
                line.online = true;
                line.capacity += cfg.lines[li].capacity;
                line.base_capacity = cfg.lines[li].capacity;
            }
            if !line.pipeline.is_empty() {
                let mut arrived = 0.0;
                line.pipeline.retain(|&(m, dk)| {
                    if m <= t {
                        arrived += dk;
                        false
                    } else {
                        true
                    }
                });
                line.capacity += arrived;
                line.pipeline_total = line.pipeline.iter().map(|x| x.1).sum();
            }
        }
        for &(li, dk, m) in &cfg.new_factories {
            if m == t {
                let line = &mut self.lines[li as usize];
                line.capacity += dk;
                line.online = true;
            }
        }
    }

    /// Approval mean, its cv and the export-variant delay for a new order of
    /// exporter `e` in month `t`.
    fn approval_terms(&self, e: usize, t: i32, partner: bool) -> (f64, f64, f64) {
        let cfg = &*self.cfg;
        let ex = &cfg.exporters[e];
        if e == cfg.focal && cfg.policy_on(t) {
            let p = &cfg.scenario.policy;
            let mut mean = ex.approval_mean * p.approval_time_factor;
            if partner {
                mean *= p.priority_approval_factor;
            }
            let delay = if p.export_by_design {
                0.0
            } else {
                ex.variant_delay
            };
            (mean, ex.approval_cv * p.approval_cv_factor, delay)
        } else {
            (ex.approval_mean, ex.approval_cv, ex.variant_delay)
        }
    }

    fn export_reserve(&self, e: usize, t: i32) -> f64 {
        export_reserve(&self.cfg, e, t)
    }

    fn partners_active(&self, e: usize, t: i32) -> bool {
        e == self.cfg.focal
            && self.cfg.policy_on(t)
            && !self.cfg.scenario.policy.priority_partners.is_empty()
    }

    /// Step 2: each line's quote terms from the start-of-month state.
    #[inline(never)] // a phase of the month: one frame each in a profile
    fn quote(&mut self, t: i32) {
        let min_share = self.cfg.scenario.model.min_foreign_share;
        for li in 0..self.lines.len() {
            let lp = &self.cfg.lines[li];
            let line = &self.lines[li];
            if !line.online || line.capacity <= 0.0 {
                self.quotes[li].live = false;
                continue;
            }
            let e = lp.exporter;
            let k = line.capacity;
            let kf = if self.cfg.exporters[e].domestic_priority {
                (k - line.domestic_per_month)
                    .max(self.export_reserve(e, t) * k)
                    .max(min_share * k)
            } else {
                k
            };
            let (a, cv, v) = self.approval_terms(e, t, false);
            let b = line.backlog_domestic + line.backlog_foreign.max(0.0);
            let head = (a + v).max(b / kf);
            let (head_priority, spread_priority) = if self.partners_active(e, t) {
                let (ap, cvp, vp) = self.approval_terms(e, t, true);
                let bp = line.backlog_domestic + line.backlog_foreign_priority.max(0.0);
                ((ap + vp).max(bp / kf), cvp * ap)
            } else {
                (head, cv * a)
            };
            self.quotes[li] = Quote {
                live: true,
                foreign_capacity: kf,
                head,
                head_priority,
                spread: cv * a,
                spread_priority,
                build: lp.build_months as f64,
            };
        }
    }

    /// Step 3: each government's domestic orders, pro rata to capacity.
    #[inline(never)] // a phase of the month: one frame each in a profile
    fn domestic_orders(&mut self) {
        let t = self.month;
        let cfg = &*self.cfg;
        for (e, ex) in cfg.exporters.iter().enumerate() {
            for (c, &demand) in ex.domestic_demand.iter().enumerate() {
                let targets = &cfg.domestic_lines[e][c];
                let total: f64 = targets
                    .iter()
                    .map(|&l| self.lines[l as usize].capacity)
                    .sum();
                for &l in targets {
                    let line = &mut self.lines[l as usize];
                    let share = if total > 0.0 && demand > 0.0 {
                        demand * line.capacity / total
                    } else {
                        0.0
                    };
                    line.domestic_per_month = share;
                    if share > 0.0 {
                        line.backlog_domestic += share;
                        line.ordered += share;
                        line.domestic_entries.push_back((t, share));
                    }
                }
            }
        }
    }

    /// Steps 1, 4, 5 for every ally: threat, requirements, choice.
    #[inline(never)] // a phase of the month: one frame each in a profile
    fn decide(&mut self, t: i32) -> Result<(), RunError> {
        let cfg = &*self.cfg;
        let quotes = &self.quotes;
        let reputation = &self.reputation;
        let first = t == -cfg.warmup;
        let partners_on = self.partners_active(cfg.focal, t);
        let behaviours = &self.behaviours;
        let slots = &behaviours.ally_procurement;
        let on_rayon = self.on_rayon();
        let mb = &mut self.month_batch;
        mb.clear();
        let prepare = |i: usize,
                       ally: &mut AllyState,
                       reqs: &mut Vec<ReqView>,
                       excluded: &mut Vec<u64>,
                       offers: &mut Vec<Offer>,
                       base: u32| {
            prepare_ally(
                cfg,
                quotes,
                reputation,
                first,
                partners_on,
                t,
                i,
                ally,
                reqs,
                excluded,
                offers,
                base,
            )
        };
        if on_rayon {
            use rayon::prelude::*;
            // Each chunk of allies into its own buffers, in parallel; then
            // copied in ally order, so the batches do not depend on the
            // scheduling.
            let chunks = &mut self.prepared_chunks;
            chunks.resize_with(self.allies.len().div_ceil(PREPARE_CHUNK), Default::default);
            self.allies
                .par_chunks_mut(PREPARE_CHUNK)
                .zip(chunks.par_iter_mut())
                .enumerate()
                .for_each(|(c, (allies, out))| {
                    out.reqs.clear();
                    out.excluded.clear();
                    out.offers.clear();
                    out.ends.clear();
                    out.choices.clear();
                    out.chosen = false;
                    out.fault = None;
                    for (j, ally) in allies.iter_mut().enumerate() {
                        let i = c * PREPARE_CHUNK + j;
                        prepare(
                            i,
                            ally,
                            &mut out.reqs,
                            &mut out.excluded,
                            &mut out.offers,
                            0,
                        );
                        out.ends
                            .push((out.reqs.len() as u32, out.offers.len() as u32));
                    }
                    // Step 5 here too, where the chunk's behaviour allows
                    // it: one fork-join a month fewer, and the offers stay
                    // in this thread's cache and are never copied.
                    let first = c * PREPARE_CHUNK;
                    let chunk_slots = &slots[first..first + allies.len()];
                    let behaviour = &behaviours.procurement[chunk_slots[0] as usize];
                    if behaviour.per_requirement()
                        && chunk_slots.iter().all(|&s| s == chunk_slots[0])
                    {
                        out.choices.resize(out.reqs.len(), OUTSIDE);
                        let batch = ProcurementBatch {
                            month: t,
                            tastes: &cfg.tastes,
                            requirements: &out.reqs,
                            offers: &out.offers,
                        };
                        out.fault =
                            choose_checked(cfg, &**behaviour, &batch, &mut out.choices).err();
                        out.chosen = true;
                    }
                });
            if let Some(fault) = chunks.iter_mut().find_map(|c| c.fault.take()) {
                return Err(fault);
            }
            for (c, chunk) in chunks.iter().enumerate() {
                let first = c * PREPARE_CHUNK;
                if chunk.chosen {
                    mb.append_chosen(chunk);
                    continue;
                }
                let chunk_slots = &slots[first..first + chunk.ends.len()];
                if chunk_slots.iter().all(|&s| s == chunk_slots[0]) {
                    // The usual case: the whole chunk in one batch.
                    mb.append_chunk(chunk_slots[0], chunk);
                    continue;
                }
                let (mut r0, mut o0) = (0, 0);
                let chunk_start = mb.offers.len() as u32;
                for (j, &(r1, o1)) in chunk.ends.iter().enumerate() {
                    let i = first + j;
                    mb.open(slots[i]);
                    // Offer starts in the chunk count from `chunk_start`;
                    // in the batch from its start (never past this ally's
                    // first offer, so the sum stays non-negative).
                    let batch_start = mb.batch_offer_start();
                    mb.reqs
                        .extend(chunk.reqs[r0..r1 as usize].iter().map(|r| ReqView {
                            offer_start: r.offer_start + chunk_start - batch_start,
                            ..*r
                        }));
                    mb.excluded
                        .extend_from_slice(&chunk.excluded[r0..r1 as usize]);
                    mb.offers.extend_from_slice(&chunk.offers[o0..o1 as usize]);
                    mb.choices.resize(mb.reqs.len(), OUTSIDE);
                    mb.close_ally();
                    (r0, o0) = (r1 as usize, o1 as usize);
                }
            }
        } else {
            for (i, ally) in self.allies.iter_mut().enumerate() {
                mb.open(slots[i]);
                let base = mb.batch_offer_start();
                prepare(
                    i,
                    ally,
                    &mut mb.reqs,
                    &mut mb.excluded,
                    &mut mb.offers,
                    base,
                );
                mb.close_ally();
            }
        }
        mb.finish();
        // Step 5: one call per batch of consecutive allies sharing a behaviour.
        mb.choices.resize(mb.reqs.len(), OUTSIDE);
        for b in &mb.batches {
            let behaviour = &behaviours.procurement[b.slot as usize];
            let (r, o) = (
                b.reqs.start as usize..b.reqs.end as usize,
                b.offers.start as usize..b.offers.end as usize,
            );
            let batch = ProcurementBatch {
                month: t,
                tastes: &cfg.tastes,
                requirements: &mb.reqs[r.clone()],
                offers: &mb.offers[o],
            };
            choose_checked(cfg, &**behaviour, &batch, &mut mb.choices[r])?;
        }
        Ok(())
    }

    /// Step 6, first half: each choice becomes an order and draws its lag.
    #[inline(never)] // a phase of the month: one frame each in a profile
    fn place_orders(&mut self, t: i32) {
        // Orders are filed for step 8 only if it can cancel them.
        let cancellable = self.cfg.scenario.model.cancel_prob > 0.0;
        // Each order goes into a free slot, a random one in a large table:
        // the first few are asked for now, the rest a few orders ahead.
        let far = self.orders.len() >= FAR_ORDERS;
        if far {
            for &id in self.free_orders.iter().rev().take(AHEAD) {
                self.orders[id as usize].prefetch();
            }
        }
        // Requirements are in ally order, each ally's in its own order:
        // placement order.
        for j in 0..self.month_batch.reqs.len() {
            let c = self.month_batch.choices[j];
            if c == OUTSIDE {
                continue;
            }
            let r = self.month_batch.reqs[j];
            let i = r.ally as usize;
            let base = self.month_batch.offer_base[j];
            let offer = self.month_batch.offers[(base + r.offer_start + c as u32) as usize];
            let excluded = self.month_batch.excluded[j];
            let li = offer.line as usize;
            let e = self.cfg.lines[li].exporter;
            let terms = self.cfg.order_terms[i];
            let partner = self.partners_active(e, t) && terms.priority_partner;
            let (mean, cv, delay) = self.approval_terms(e, t, partner);
            let lag = self.lag_terms.draw(&mut self.world_rng, mean, cv);
            let decide = t + lag.round() as i32;
            let seq = self.placed_orders;
            let order = Order {
                ally: i as u32,
                line: offer.line,
                category: r.category as u16,
                priority: partner,
                status: Status::AwaitingApproval,
                size: r.size,
                price_index: offer.price_index,
                placed: t,
                quoted_wait: offer.wait_months,
                variant_delay: delay.round() as i32,
                produced: 0.0,
                excluded,
                p_deny: self.cfg.exporters[e].deny_base * (1.0 - offer.alignment),
                entry_month: i32::MAX,
                ticket: 0,
                seq,
                decided: i32::MIN,
                first_delivery: i32::MIN,
                delivered_reported: 0.0,
            };
            self.placed_orders += 1;
            if far {
                if let Some(k) = self.free_orders.len().checked_sub(AHEAD + 1) {
                    // The slot this month's placement reaches AHEAD orders on.
                    self.orders[self.free_orders[k] as usize].prefetch();
                }
            }
            let id = match self.free_orders.pop() {
                Some(id) => {
                    self.orders[id as usize] = order;
                    id
                }
                None => {
                    self.orders.push(order);
                    (self.orders.len() - 1) as u32
                }
            };
            let line = &mut self.lines[li];
            line.backlog_foreign += r.size;
            if partner {
                line.backlog_foreign_priority += r.size;
            }
            line.ordered += r.size;
            self.acc[e].orders_tiv += r.size;
            let limit = terms.patience * offer.wait_months;
            if let Some(due) = overdue_from(t, limit, self.cfg.months).filter(|_| cancellable) {
                let entry = OpenOrder {
                    id,
                    ally: i as u32,
                    seq,
                };
                self.overdue.push(t, due, entry);
            }
            self.approvals.push(t, decide, id);
        }
    }

    /// Step 6, second half: approvals and denials decided this month, then
    /// approved orders whose entry month has come join their line's queue.
    #[inline(never)] // a phase of the month: one frame each in a profile
    fn decide_approvals(&mut self, t: i32) {
        let ids = self.approvals.take(t);
        let mut statuses = std::mem::take(&mut self.statuses);
        gather_statuses(&self.orders, &ids, &mut statuses);
        {
            for (&id, &status) in ids.iter().zip(&statuses) {
                let o = &self.orders[id as usize];
                if status != Status::AwaitingApproval {
                    // Cancelled while waiting: this was its last reference.
                    self.ended_orders.push(id);
                    continue;
                }
                let li = o.line as usize;
                let e = self.cfg.lines[li].exporter;
                let ally = o.ally as usize;
                let p_deny = o.p_deny;
                let denied = p_deny > 0.0 && self.world_rng.gen::<f64>() < p_deny;
                let size = o.size;
                self.orders[id as usize].decided = t;
                let line = &mut self.lines[li];
                if denied {
                    let o = &mut self.orders[id as usize];
                    o.status = Status::Denied;
                    line.backlog_foreign -= size;
                    if o.priority {
                        line.backlog_foreign_priority -= size;
                    }
                    line.denied += size;
                    self.acc[e].denials += 1;
                    self.ended_orders.push(id);
                    if let (true, Some(l)) = (t >= 0, &mut self.ledger) {
                        l.push(record(o, Outcome::Denied, None));
                    }
                    self.allies[ally].returned.push(Need {
                        category: o.category,
                        size,
                        excluded: o.excluded | (1u64 << e),
                    });
                } else {
                    let o = &mut self.orders[id as usize];
                    o.status = Status::AwaitingEntry;
                    line.backlog_foreign_approved += size;
                    let advance = self.cfg.order_terms[ally].advance_share * size * o.price_index;
                    self.owners[self.cfg.lines[li].owner].cash += advance;
                    let entry = t + o.variant_delay;
                    self.entries.push(t, entry, id);
                }
            }
        }
        self.approvals.put_back(t, ids);
        let ids = self.entries.take(t);
        gather_statuses(&self.orders, &ids, &mut statuses);
        {
            for (&id, &status) in ids.iter().zip(&statuses) {
                let o = &mut self.orders[id as usize];
                if status != Status::AwaitingEntry {
                    // Cancelled while waiting: this was its last reference.
                    self.ended_orders.push(id);
                    continue;
                }
                o.status = Status::Queued;
                o.entry_month = t;
                let lp = &self.cfg.lines[o.line as usize];
                let ap = self.cfg.order_terms[o.ally as usize];
                let line = &mut self.lines[o.line as usize];
                o.ticket = line.tickets;
                line.tickets += 1;
                let q = Queued {
                    id,
                    ticket: o.ticket,
                    entry_month: t,
                    priority: o.priority,
                    size: o.size,
                    produced: 0.0,
                    cap: o.size / self.cfg.categories[lp.category].span,
                    taken_month: i32::MIN,
                    taken: 0.0,
                    pay: (1.0 - ap.advance_share) * o.price_index,
                    price_index: o.price_index,
                    region: ap.region as u16,
                };
                let line = &mut self.lines[o.line as usize];
                if o.priority {
                    line.queue_priority.push_back(q);
                } else {
                    line.queue.push_back(q);
                }
            }
        }
        self.entries.put_back(t, ids);
        self.statuses = statuses;
    }

    /// Step 7 (and step 9 on each completion). Each line's production
    /// touches only that line; what it means for owners, exporters and
    /// orders is then booked line by line, in line order, as are the
    /// deliveries. In a large world the two overlap: while one stage of
    /// lines is produced (in parallel), the stage before it is booked.
    #[inline(never)] // a phase of the month: one frame each in a profile
    fn produce_and_deliver(&mut self, t: i32) {
        let on_rayon = self.on_rayon();
        let cfg = Arc::clone(&self.cfg);
        let produce = |li: usize, line: &mut LineState| {
            let lp = &cfg.lines[li];
            produce_line(
                line,
                t,
                lp.build_months as i32,
                export_reserve(&cfg, lp.exporter, t),
                cfg.exporters[lp.exporter].domestic_priority,
            );
        };
        // Booked line by line, each line's due shipments in order: every
        // sum takes its terms in the same order whatever ran in parallel.
        // A line's booking reads only that line's output, and production
        // reads nothing booking writes, so booking a line while later
        // lines are produced gives the same bytes.
        let lines = &mut self.lines;
        let mut booking = Booking {
            cfg: &cfg,
            t,
            orders: &mut self.orders,
            owners: &mut self.owners,
            acc: &mut self.acc,
            region_acc: &mut self.region_acc,
            by_region_acc: &mut self.by_region_acc,
            by_category_acc: &mut self.by_category_acc,
            reputation: &mut self.reputation,
            ended_orders: &mut self.ended_orders,
            ledger: &mut self.ledger,
        };
        if !on_rayon {
            for (li, line) in lines.iter_mut().enumerate() {
                produce(li, line);
            }
            for (li, line) in lines.iter_mut().enumerate() {
                booking.book(li, line);
            }
            return;
        }
        // A pipeline of stages: stage k's lines are produced (in parallel)
        // while stage k - 1's are booked. Booking costs about what
        // producing does (a shipment each) and is serial, so it overlaps
        // production instead of following it (K = 100, 2 threads: step 7
        // 90 to 78 ms a run).
        use rayon::prelude::*;
        let per_stage = lines.len().div_ceil(PIPELINE_STAGES).max(1);
        let mut booked: (usize, &mut [LineState]) = (0, &mut []);
        for (k, stage) in lines.chunks_mut(per_stage).enumerate() {
            let start = k * per_stage;
            let (booked_start, booked_lines) = booked;
            rayon::join(
                || {
                    stage
                        .par_iter_mut()
                        .enumerate()
                        .for_each(|(j, line)| produce(start + j, line))
                },
                || {
                    for (j, line) in booked_lines.iter_mut().enumerate() {
                        booking.book(booked_start + j, line);
                    }
                },
            );
            booked = (start, stage);
        }
        let (booked_start, booked_lines) = booked;
        for (j, line) in booked_lines.iter_mut().enumerate() {
            booking.book(booked_start + j, line);
        }
    }

    /// Step 8: overdue unstarted orders may be cancelled. Each ally finds
    /// its cancellations from its own stream; their effects on the lines
    /// are then applied in ally order.
    #[inline(never)] // a phase of the month: one frame each in a profile
    fn cancel(&mut self, t: i32) {
        let p_cancel = self.cfg.scenario.model.cancel_prob;
        // Orders overdue from this month join their ally's list (in
        // placement order) while they have not started.
        let due = self.overdue.take(t);
        for entry in &due {
            let o = &self.orders[entry.id as usize];
            if o.seq == entry.seq && unstarted(o.status) {
                let list = &mut self.allies[entry.ally as usize].overdue;
                let at = list.partition_point(|x| x.seq < entry.seq);
                list.insert(at, *entry);
                self.overdue_listed[entry.ally as usize] += 1;
            }
        }
        self.overdue.put_back(t, due);
        if p_cancel <= 0.0 {
            // Nothing is ever cancelled, and nothing is drawn.
            for (ally, listed) in self.allies.iter_mut().zip(&mut self.overdue_listed) {
                if *listed > 0 {
                    ally.overdue.clear();
                    *listed = 0;
                }
            }
            return;
        }
        // One pass, in ally order, even in a large world: only allies with
        // something overdue do any work, and at K = 100 a parallel scan's
        // fork-join cost more than it saved (2 threads: 190 ms a run with
        // it, 183-190 without). An ally's cancellations touch only its own
        // orders, so applying them before the next ally's draws changes
        // nothing those draws see.
        for i in 0..self.allies.len() {
            if self.overdue_listed[i] == 0 {
                continue;
            }
            let ally = &mut self.allies[i];
            overdue_cancellations(&self.orders, ally, p_cancel);
            self.overdue_listed[i] = ally.overdue.len() as u32;
            if ally.cancelled.is_empty() {
                continue;
            }
            let cancelled = std::mem::take(&mut self.allies[i].cancelled);
            for &id in &cancelled {
                self.cancel_order(t, i, id);
            }
            self.allies[i].cancelled = cancelled;
            self.allies[i].cancelled.clear();
        }
    }

    /// Ends order `id` of ally `i` as cancelled: off its line's books and
    /// queue, and its need back to the ally for next month.
    fn cancel_order(&mut self, t: i32, i: usize, id: u32) {
        let o = &mut self.orders[id as usize];
        let was = o.status;
        o.status = Status::Cancelled;
        let li = o.line as usize;
        let e = self.cfg.lines[li].exporter;
        let line = &mut self.lines[li];
        line.backlog_foreign -= o.size;
        if o.priority {
            line.backlog_foreign_priority -= o.size;
        }
        if was != Status::AwaitingApproval {
            line.backlog_foreign_approved -= o.size;
        }
        if was == Status::Queued {
            let q = if o.priority {
                &mut line.queue_priority
            } else {
                &mut line.queue
            };
            // Left in place with nothing to produce (step 7 passes over
            // it, as if it were gone, and drops it once production gets
            // that far): removing it here would shift the whole queue.
            if let Ok(pos) = q.binary_search_by_key(&o.ticket, |x| x.ticket) {
                q[pos].size = 0.0;
            }
            // Its slot is freed at the end of the month; the queue entry
            // left behind is never used again (see the module doc). Orders
            // still waiting stay in their bucket until it comes up.
            self.ended_orders.push(id);
        }
        if let (true, Some(l)) = (t >= 0, &mut self.ledger) {
            l.push(record(o, Outcome::Cancelled, None));
        }
        line.cancelled += o.size;
        self.acc[e].cancellations += 1;
        self.allies[i].returned.push(Need {
            category: o.category,
            size: o.size,
            excluded: 0,
        });
    }

    /// Step 10: investment every `invest_every_months`, decline every month.
    #[inline(never)] // a phase of the month: one frame each in a profile
    fn invest(&mut self, t: i32) -> Result<(), RunError> {
        let cfg = Arc::clone(&self.cfg);
        let m = &cfg.scenario.model;
        let p = &cfg.scenario.policy;
        // Decline of idle lines.
        for li in 0..self.lines.len() {
            let line = &mut self.lines[li];
            if !line.online {
                continue;
            }
            let denom = line.capacity + line.pipeline_total;
            let months = if denom > 0.0 {
                backlog_order_book(line) / denom
            } else {
                f64::INFINITY
            };
            if months < m.decline_backlog_months {
                line.idle_months += 1;
            } else {
                line.idle_months = 0;
            }
            if line.idle_months >= m.decline_after_months {
                let floor = (0.5 * line.base_capacity).max(line.domestic_per_month);
                if line.capacity > floor {
                    line.capacity = (line.capacity * (1.0 - m.decline_rate)).max(floor);
                }
            }
        }
        if (t + cfg.warmup).rem_euclid(m.invest_every_months as i32) != 0 {
            return Ok(());
        }
        // One call per investment behaviour, over the lines of every owner
        // that uses it (owner by owner); then each owner's tranches are paid
        // for in owner order. Owners share no cash, so batching changes
        // nothing but the number of calls.
        let mut views = std::mem::take(&mut self.invest_views);
        let mut tranches = std::mem::take(&mut self.invest_tranches);
        for (b, behaviour) in self.behaviours.investment.iter().enumerate() {
            views.clear();
            for oi in 0..self.owners.len() {
                if self.behaviours.owner_investment[oi] as usize != b {
                    continue;
                }
                let op = &cfg.owners[oi];
                let focal_now = op.exporter == cfg.focal && cfg.policy_on(t);
                let subsidy = if focal_now { p.factory_subsidy } else { 0.0 };
                for &li in &cfg.lines_by_owner[oi] {
                    let li = li as usize;
                    let lp = &cfg.lines[li];
                    if !self.lines[li].online {
                        continue;
                    }
                    let line = &self.lines[li];
                    let denom = line.capacity + line.pipeline_total;
                    let order_book = backlog_order_book(line);
                    let draw = if behaviour.uses_draws() {
                        open_unit(&mut self.owners[oi].rng)
                    } else {
                        0.5
                    };
                    views.push(LineView {
                        line: li as u32,
                        owner: oi as u32,
                        category: lp.category as u32,
                        tier: if lp.tier == Tier::High { 0 } else { 1 },
                        capacity: line.capacity,
                        pipeline: line.pipeline_total,
                        backlog_domestic: line.backlog_domestic,
                        backlog_foreign_approved: line.backlog_foreign_approved.max(0.0),
                        backlog_months: if denom > 0.0 { order_book / denom } else { 0.0 },
                        cash: self.owners[oi].cash,
                        credit_limit: op.credit_limit,
                        capex_per_unit: cfg.categories[lp.category].capex_per_unit,
                        subsidy,
                        threshold_months: m.invest_threshold_months * (1.0 - subsidy),
                        target_months: m.target_backlog_months * (1.0 - subsidy),
                        max_growth: m.max_growth,
                        draw,
                    });
                }
            }
            if views.is_empty() {
                continue;
            }
            tranches.clear();
            tranches.resize(views.len(), 0.0);
            let fault = |k: Option<usize>, message: String| {
                // The line it failed on, or else every line of the call.
                let owners: Vec<usize> = match k.and_then(|k| views.get(k)) {
                    Some(v) => vec![v.owner as usize],
                    None => views.iter().map(|v| v.owner as usize).collect(),
                };
                let contractor = owners
                    .iter()
                    .any(|&o| cfg.owners[o].kind == OwnerKind::Contractor);
                let competitor = owners
                    .iter()
                    .any(|&o| cfg.owners[o].kind == OwnerKind::Competitor);
                let names: Vec<&str> = owners
                    .iter()
                    .map(|&o| cfg.scenario.suppliers[o].name.as_str())
                    .collect();
                RunError::Behaviour {
                    behaviour: behaviour.name().to_string(),
                    slot: match (contractor, competitor) {
                        (true, false) => "contractor investment",
                        (false, true) => "competitor investment",
                        _ => "contractor and competitor investment",
                    },
                    agent: name_list(&names),
                    month: t,
                    start_year: cfg.scenario.start_year,
                    message,
                }
            };
            behaviour
                .invest(t, &views, &mut tranches)
                .map_err(|f| fault(f.item, f.message))?;
            for (k, v) in views.iter().enumerate() {
                let dk = tranches[k];
                let li = v.line as usize;
                if !dk.is_finite() || dk < 0.0 {
                    // Named as orders.csv names lines, not by batch index.
                    let lp = &cfg.lines[li];
                    return Err(fault(
                        Some(k),
                        format!(
                            "tranche {dk} for line {}/{}/{} is not a finite non-negative number",
                            cfg.scenario.suppliers[lp.owner].name,
                            cfg.scenario.categories[lp.category].name,
                            lp.tier.as_str()
                        ),
                    ));
                }
                if dk <= 0.0 {
                    continue;
                }
                let oi = v.owner as usize;
                let op = &cfg.owners[oi];
                let focal_now = op.exporter == cfg.focal && cfg.policy_on(t);
                let lead = match (focal_now, p.factory_lead_months) {
                    (true, Some(l)) => l,
                    _ => m.factory_lead_months,
                } as i32;
                let unit_cost = v.capex_per_unit * (1.0 - v.subsidy);
                let owner = &mut self.owners[oi];
                let room = owner.cash + op.credit_limit;
                let dk = if unit_cost > 0.0 {
                    dk.min(room / unit_cost)
                } else {
                    dk
                };
                if dk <= 0.0 {
                    continue;
                }
                owner.cash -= unit_cost * dk;
                let line = &mut self.lines[li];
                line.pipeline.push((t + lead, dk));
                line.pipeline_total += dk;
            }
        }
        self.invest_views = views;
        self.invest_tranches = tranches;
        Ok(())
    }

    /// Step 11.
    #[inline(never)] // a phase of the month: one frame each in a profile
    fn record(&mut self, t: i32) {
        let cfg = &*self.cfg;
        if !self.recorder.keeps(t) {
            return;
        }
        let rows = &mut self.rows;
        rows.iter_mut().for_each(|r| *r = ExporterMonth::default());
        for (li, line) in self.lines.iter().enumerate() {
            let row = &mut rows[cfg.lines[li].exporter];
            row.backlog_domestic_tiv += line.backlog_domestic;
            row.backlog_foreign_tiv += line.backlog_foreign.max(0.0);
            row.capacity_tiv += line.capacity;
        }
        for (e, row) in rows.iter_mut().enumerate() {
            let a = &self.acc[e];
            row.orders_tiv = a.orders_tiv;
            row.deliveries_tiv = a.deliveries_tiv;
            row.deliveries_domestic_tiv = a.deliveries_domestic_tiv;
            row.revenue_musd = a.revenue;
            row.production_tiv = a.production;
            row.completions = a.completions;
            row.quoted_wait_months = if a.completions > 0 {
                a.quoted_sum / a.completions as f64
            } else {
                f64::NAN
            };
            row.realised_wait_months = if a.completions > 0 {
                a.realised_sum / a.completions as f64
            } else {
                f64::NAN
            };
            row.cancellations = a.cancellations;
            row.denials = a.denials;
            row.reputation = self.reputation[e];
        }
        self.recorder.push(
            t,
            rows,
            &self.region_acc,
            &self.by_region_acc,
            &self.by_category_acc,
        );
    }

    /// TIV ordered minus produced, cancelled, denied and still open, per
    /// line: zero up to rounding when the books balance (tests use it).
    pub fn conservation_gaps(&self) -> Vec<f64> {
        let mut open = vec![0.0; self.lines.len()];
        for o in &self.orders {
            if matches!(o.status, Status::AwaitingApproval | Status::AwaitingEntry) {
                open[o.line as usize] += o.size;
            }
        }
        // Queued and producing orders: what their queue entry has left.
        for (li, line) in self.lines.iter().enumerate() {
            for q in line.queue.iter().chain(&line.queue_priority) {
                open[li] += q.size - q.produced;
            }
        }
        self.lines
            .iter()
            .zip(open)
            .map(|(line, open)| {
                let domestic_open: f64 = line.domestic_entries.iter().map(|x| x.1).sum();
                line.ordered - line.produced - line.cancelled - line.denied - open - domestic_open
            })
            .collect()
    }
}

/// The ledger's record of order `o` as it ends (or stands at the end).
fn record(o: &Order, outcome: Outcome, last_delivery: Option<i32>) -> OrderRecord {
    let month = |m: i32| (m != i32::MIN && m != i32::MAX).then_some(m);
    OrderRecord {
        seq: o.seq,
        ally: o.ally,
        line: o.line,
        category: o.category,
        priority: o.priority,
        size: o.size,
        price_index: o.price_index,
        placed: o.placed,
        decided: month(o.decided),
        outcome,
        entered: month(o.entry_month),
        first_delivery: month(o.first_delivery),
        last_delivery,
        quoted_wait: o.quoted_wait,
        delivered_reported: o.delivered_reported,
    }
}

/// Step 7's booking of one line's month (and step 9 on each completion):
/// what the line's output and due shipments mean for owners, exporters and
/// orders. Lines are booked in line order.
struct Booking<'a> {
    cfg: &'a Compiled,
    t: i32,
    orders: &'a mut [Order],
    owners: &'a mut [OwnerState],
    acc: &'a mut [MonthAcc],
    region_acc: &'a mut [f64],
    by_region_acc: &'a mut [f64],
    by_category_acc: &'a mut [f64],
    reputation: &'a mut [f64],
    ended_orders: &'a mut Vec<u32>,
    ledger: &'a mut Option<Vec<OrderRecord>>,
}

impl Booking<'_> {
    // Inlined into both callers (the sequential month and the pipeline),
    // so that the sequential loop is the code it was before the pipeline.
    #[inline(always)]
    fn book(&mut self, li: usize, line: &mut LineState) {
        let Booking {
            cfg,
            t,
            orders,
            owners,
            acc,
            region_acc,
            by_region_acc,
            by_category_acc,
            reputation,
            ended_orders,
            ledger,
        } = self;
        let t = *t;
        let margin = cfg.scenario.model.margin;
        let (nreg, ncat) = (cfg.regions.len(), cfg.categories.len());
        let lambda = cfg.scenario.model.reputation_weight;
        let reported = t >= 0;
        let lp = &cfg.lines[li];
        let e = lp.exporter;
        let cash = &mut owners[lp.owner].cash;
        let acc = &mut acc[e];
        if let Some((foreign, domestic)) = line.output.take() {
            let produced = foreign + domestic;
            acc.production += produced;
            *cash -= (1.0 - margin) * lp.price_index * produced;
            for &(id, produced) in &line.started {
                let o = &mut orders[id as usize];
                o.status = Status::Producing;
                o.produced = produced;
            }
            line.started.clear();
        }
        // Deliveries due this month: the runs of due shipments at the
        // front (a later one waits behind an earlier one not yet due),
        // taken in one pass.
        let mut due = 0;
        while let Some(&(month, count)) = line.shipping.front() {
            if month > t {
                break;
            }
            line.shipping.pop_front();
            due += count as usize;
        }
        let by_region = &mut by_region_acc[e * nreg..(e + 1) * nreg];
        let by_category = &mut by_category_acc[e * ncat + lp.category];
        for _ in 0..due {
            let Some(s) = line.shipments.pop_front() else {
                break;
            };
            if s.order == NO_ORDER {
                *cash += lp.price_index * s.tiv;
                acc.deliveries_domestic_tiv += s.tiv;
                continue;
            }
            *cash += s.pay * s.tiv;
            region_acc[s.region as usize] += s.tiv;
            by_region[s.region as usize] += s.tiv;
            *by_category += s.tiv;
            acc.deliveries_tiv += s.tiv;
            acc.revenue += s.price_index * s.tiv;
            if !(s.first || s.last || reported && ledger.is_some()) {
                continue;
            }
            let o = &mut orders[s.order as usize];
            if s.first {
                o.first_delivery = t;
            }
            if reported && ledger.is_some() {
                o.delivered_reported += s.tiv;
            }
            if s.last {
                o.status = Status::Done;
                ended_orders.push(s.order);
                if let (true, Some(l)) = (reported, ledger.as_mut()) {
                    l.push(record(o, Outcome::Approved, Some(t)));
                }
                let realised = (t - o.placed) as f64;
                acc.completions += 1;
                acc.quoted_sum += o.quoted_wait;
                acc.realised_sum += realised;
                // Step 9: reputation.
                let ratio = if o.quoted_wait > 0.0 {
                    realised / o.quoted_wait
                } else {
                    1.0
                };
                reputation[e] = (1.0 - lambda) * reputation[e] + lambda * ratio;
            }
        }
    }
}

/// Step 7's production of one line in month `t`: the export reserve
/// (`reserve`, a share of capacity) first, then the queue discipline. It
/// leaves the month's (foreign, domestic) output in `line.output` and the
/// orders that started or finished in `line.started`, for booking.
fn produce_line(
    line: &mut LineState,
    t: i32,
    build_months: i32,
    reserve: f64,
    domestic_priority: bool,
) {
    if !line.online || line.capacity <= 0.0 {
        return;
    }
    let k = line.capacity;
    let reserve = reserve * k;
    let mut prod = Production {
        shipped_before: line.shipments.len(),
        line,
        month: t,
        deliver_at: t + build_months,
        foreign: 0.0,
        domestic: 0.0,
        gone_end: [0, 0],
    };
    let mut left = k;
    if reserve > 0.0 {
        left -= prod.foreign_fifo(reserve.min(left));
    }
    if domestic_priority {
        left -= prod.domestic(left, None);
        prod.foreign_fifo(left);
    } else {
        prod.shared_queue(left);
    }
    prod.finish_month();
    let (foreign, domestic) = (prod.foreign, prod.domestic);
    line.output = Some((foreign, domestic));
}

/// `a.min(b)` for numbers that are never NaN (capacities, sizes and
/// budgets are finite): a compare and a select, without `f64::min`'s NaN
/// handling, in the loop over every queued order of every line.
#[inline(always)]
fn lesser(a: f64, b: f64) -> f64 {
    if b < a {
        b
    } else {
        a
    }
}

fn backlog_order_book(line: &LineState) -> f64 {
    line.backlog_domestic + line.backlog_foreign_approved.max(0.0)
}

/// Production of one line in one month: the queue disciplines of step 7.
struct Production<'a> {
    line: &'a mut LineState,
    month: i32,
    deliver_at: i32,
    /// Shipments in flight before this month's.
    shipped_before: usize,
    foreign: f64,
    domestic: f64,
    /// Per queue (priority, ordinary): one past the last entry that
    /// finished this month or was found cancelled; the queue is pruned up
    /// to there (FIFO: usually a few entries at the front).
    gone_end: [usize; 2],
}

impl Production<'_> {
    /// Produces up to `budget` for foreign orders, priority class first,
    /// oldest entry first. Returns what it produced.
    fn foreign_fifo(&mut self, budget: f64) -> f64 {
        let mut left = budget;
        self.serve_queue::<true>(&mut left);
        self.serve_queue::<false>(&mut left);
        budget - left
    }

    /// Produces from one foreign queue (the priority class or the ordinary
    /// one), oldest entry first, while `left` lasts.
    fn serve_queue<const PRIORITY: bool>(&mut self, left: &mut f64) {
        let n = if PRIORITY {
            self.line.queue_priority.len()
        } else {
            self.line.queue.len()
        };
        for k in 0..n {
            if *left <= 1e-12 {
                break;
            }
            *left -= self.take_order::<PRIORITY>(k, *left);
        }
    }

    /// Domestic work, a flow with no per-order cap, oldest entry first, up to
    /// `budget` and (if given) only entries from months up to `until`.
    fn domestic(&mut self, budget: f64, until: Option<i32>) -> f64 {
        let mut left = budget;
        while left > 1e-12 {
            let Some(front) = self.line.domestic_entries.front_mut() else {
                break;
            };
            if until.is_some_and(|u| front.0 > u) {
                break;
            }
            let take = front.1.min(left);
            front.1 -= take;
            left -= take;
            if front.1 <= 1e-9 {
                let rest = front.1;
                left -= rest.max(0.0);
                self.line.domestic_entries.pop_front();
                self.record_domestic(take + rest.max(0.0));
            } else {
                self.record_domestic(take);
            }
        }
        budget - left
    }

    fn record_domestic(&mut self, tiv: f64) {
        self.line.backlog_domestic = (self.line.backlog_domestic - tiv).max(0.0);
        self.domestic += tiv;
        self.line.produced += tiv;
    }

    /// Without domestic priority: priority partners first, then domestic
    /// entries and ordinary foreign orders by entry month, domestic first on a tie.
    fn shared_queue(&mut self, budget: f64) {
        let mut left = budget;
        self.serve_queue::<true>(&mut left);
        let n = self.line.queue.len();
        let mut k = 0;
        while left > 1e-12 {
            let next_foreign = (k < n).then(|| self.line.queue[k].entry_month);
            let next_domestic = self.line.domestic_entries.front().map(|x| x.0);
            match (next_domestic, next_foreign) {
                (Some(d), Some(f)) if d <= f => left -= self.domestic(left, Some(d)),
                (Some(d), None) => left -= self.domestic(left, Some(d)),
                (_, Some(_)) => {
                    left -= self.take_order::<false>(k, left);
                    k += 1;
                }
                (None, None) => break,
            }
        }
    }

    /// Produces from entry `k` of a queue up to its monthly cap and `budget`.
    #[inline(always)]
    fn take_order<const PRIORITY: bool>(&mut self, k: usize, budget: f64) -> f64 {
        let month = self.month;
        let q = if PRIORITY {
            &mut self.line.queue_priority[k]
        } else {
            &mut self.line.queue[k]
        };
        if q.taken_month != month {
            q.taken_month = month;
            q.taken = 0.0;
        }
        let cap = q.cap - q.taken;
        let remaining = q.size - q.produced;
        if remaining <= 0.0 {
            // A cancelled entry (nothing left): dropped after the month.
            mark_gone(&mut self.gone_end, PRIORITY, k);
        }
        let mut take = lesser(lesser(cap, remaining), budget);
        if take <= 0.0 {
            return 0.0;
        }
        if remaining - take <= 1e-9 * q.size {
            take = remaining;
        }
        let starts = q.produced == 0.0;
        q.taken += take;
        q.produced += take;
        let q = *q;
        let last = q.produced >= q.size;
        if starts || last {
            self.line.started.push((q.id, q.produced));
        }
        if last {
            mark_gone(&mut self.gone_end, PRIORITY, k);
        }
        self.line.backlog_foreign -= take;
        if q.priority {
            self.line.backlog_foreign_priority -= take;
        }
        self.line.backlog_foreign_approved -= take;
        self.line.produced += take;
        self.foreign += take;
        self.line.shipments.push_back(Shipment {
            order: q.id,
            tiv: take,
            last,
            pay: q.pay,
            price_index: q.price_index,
            region: q.region,
            first: starts,
        });
        take
    }

    /// Aggregates this month's domestic output into one shipment and drops
    /// finished orders from the queues.
    fn finish_month(&mut self) {
        if self.domestic > 0.0 {
            self.line.shipments.push_back(Shipment {
                order: NO_ORDER,
                tiv: self.domestic,
                first: false,
                last: false,
                pay: 0.0,
                price_index: 0.0,
                region: 0,
            });
        }
        let made = self.line.shipments.len() - self.shipped_before;
        if made > 0 {
            self.line.shipping.push_back((self.deliver_at, made as u32));
        }
        prune_front(&mut self.line.queue_priority, self.gone_end[0]);
        prune_front(&mut self.line.queue, self.gone_end[1]);
    }
}

/// Entry `k` of a queue (priority or ordinary) is to go after this month.
fn mark_gone(gone_end: &mut [usize; 2], priority: bool, k: usize) {
    let end = &mut gone_end[usize::from(!priority)];
    *end = (*end).max(k + 1);
}

/// Drops the finished entries (and cancelled ones, with nothing left to
/// produce) among the first `m` of a queue, keeping the rest in order: the
/// work of a month's finished orders, not of the queue's length. Cancelled
/// entries further back wait until production reaches them.
#[inline]
fn prune_front(queue: &mut VecDeque<Queued>, m: usize) {
    if m == 0 {
        // Most line-months: nothing finished.
        return;
    }
    let mut kept = m;
    for i in (0..m).rev() {
        let q = queue[i];
        if q.produced < q.size {
            kept -= 1;
            queue[kept] = q;
        }
    }
    queue.drain(..kept);
}

/// A uniform draw in the open interval (0, 1): safe for ln(-ln u).
///
/// The midpoint of one of 2^53 cells. For the top cell (a word whose top
/// 53 bits are all set), 2^53 - 1/2 rounds to 2^53 (ties to even) and the
/// product to 1.0, once in 2^53 draws; the `min` takes that case to the
/// largest double below 1 (a Gumbel draw of about 36.7, not +inf) and
/// leaves every other draw's bits as they were.
#[inline]
pub fn open_unit<R: RngCore>(rng: &mut R) -> f64 {
    let u = ((rng.next_u64() >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64);
    u.min(LARGEST_BELOW_ONE)
}

/// 1 - 2^-53, the largest double below 1.
const LARGEST_BELOW_ONE: f64 = 1.0 - f64::EPSILON / 2.0;

/// N ~ Poisson(lambda). Inversion from one uniform for the small means of
/// monthly requirements (rand_distr's sampler recomputes ln Gamma at every
/// construction, which cost 7% of a run); rand_distr's above 30.
fn poisson<R: RngCore>(rng: &mut R, lambda: f64) -> u64 {
    if lambda >= POISSON_INVERSION_BELOW {
        return Poisson::new(lambda)
            .map(|p| p.sample(rng) as u64)
            .unwrap_or(0);
    }
    poisson_inversion(open_unit(rng), lambda)
}

/// Step 1's threat (e^log_threat times the factors of the events on) and
/// step 4's count of new requirements, N ~ Poisson(budget x threat /
/// (12 x mean size)), drawn from `rng`. `None` when the count is 0 and
/// `nothing_returned`: the month then files nothing, and the threat is not
/// needed.
///
/// Most months of most allies are such months, and a zero count is often
/// certain from bounds on the threat: then neither its exponential nor the
/// Poisson's is computed. The uniform is drawn as the exact path draws
/// it, and kept for it if the bounds do not decide, so the stream and
/// every number are the same either way.
#[inline(always)]
fn threat_and_count<R: RngCore>(
    log_threat: f64,
    factors: impl Iterator<Item = f64> + Clone,
    budget: f64,
    mean_size: f64,
    nothing_returned: bool,
    rng: &mut R,
) -> Option<(f64, u64)> {
    let lambda_of = |threat: f64| budget * threat / (12.0 * mean_size);
    let mut drawn = None;
    if nothing_returned && budget > 0.0 && mean_size > 0.0 {
        if let Some((mut lo, mut hi)) = exp_bounds(log_threat) {
            // Rounding is monotonic: the bounds stay bounds through each
            // positive factor (and the lower one through lambda_of).
            let mut positive = true;
            for f in factors.clone() {
                positive &= f > 0.0;
                lo *= f;
                hi *= f;
            }
            // The upper bound by a product, not lambda_of's division: the
            // rate's division does not wait for the bounds, and the slack
            // (16 eps) covers the roundings of lambda_of and of the rate.
            let rate_up = budget / (12.0 * mean_size) * (1.0 + 16.0 * f64::EPSILON);
            let (lambda_lo, lambda_hi) = (lambda_of(lo), hi * rate_up);
            if positive && lambda_lo > 0.0 && lambda_hi < POISSON_INVERSION_BELOW {
                let u = open_unit(rng);
                if surely_zero(u, lambda_hi) {
                    return None;
                }
                drawn = Some(u);
            }
        }
    }
    let mut threat = log_threat.exp();
    for f in factors {
        threat *= f;
    }
    let lambda = lambda_of(threat);
    let n = if lambda > 0.0 {
        // With `drawn`, the bounds put lambda in (0, 30): the exact path
        // inverts that uniform too.
        match drawn {
            Some(u) => poisson_inversion(u, lambda),
            None => poisson(rng, lambda),
        }
    } else {
        0
    };
    (n > 0 || !nothing_returned).then_some((threat, n))
}

/// [`poisson`] inverts one uniform below this mean.
const POISSON_INVERSION_BELOW: f64 = 30.0;

/// Whether [`poisson_inversion`]`(u, lambda)` is 0 for this `lambda` and
/// any smaller positive one, without the exponential. The count is 0 when
/// u is at most e^-lambda (as rounded); e^-lambda > 1 - lambda, and the
/// factor leaves room for the rounding of both sides.
#[inline]
fn surely_zero(u: f64, lambda: f64) -> bool {
    u <= (1.0 - lambda) * (1.0 - 4.0 * f64::EPSILON)
}

/// Bounds (lo, hi) on `x.exp()` as computed, without the exponential and
/// without a division (this is on the path of every ally-month), where
/// cheap ones exist (x below 1): e^x >= 1 + x everywhere; e^x <= 1 + x +
/// x^2 / 2 for x <= 0 (the Taylor remainder x^3 e^z / 6 is negative), and
/// <= 1 + x + (e - 2) x^2 <= 1 + x + 3 x^2 / 4 on [0, 1] ((e^x - 1 - x) /
/// x^2 grows with x, to e - 2 at 1). Each is widened by 8 eps (relative)
/// for its own rounding and the exponential's. `lo` is 0 below x = -1.
#[inline]
fn exp_bounds(x: f64) -> Option<(f64, f64)> {
    if x.is_nan() || x >= 1.0 {
        return None;
    }
    let k = if x < 0.0 { 0.5 } else { 0.75 };
    let hi = 1.0 + x * (1.0 + k * x);
    let lo = if x > -1.0 { 1.0 + x } else { 0.0 };
    Some((
        lo * (1.0 - 8.0 * f64::EPSILON),
        hi * (1.0 + 8.0 * f64::EPSILON),
    ))
}

/// Poisson(lambda) by inversion of the uniform `u`, for lambda below 30.
#[inline]
fn poisson_inversion(u: f64, lambda: f64) -> u64 {
    // Most ally-months file nothing: see surely_zero.
    if surely_zero(u, lambda) {
        return 0;
    }
    poisson_by_cdf(u, lambda)
}

/// The inversion itself: the first k whose cumulative probability reaches
/// `u` (at most 1,000).
fn poisson_by_cdf(u: f64, lambda: f64) -> u64 {
    let mut p = (-lambda).exp();
    let mut cdf = p;
    let mut k = 0u64;
    while u > cdf && k < 1000 {
        k += 1;
        p *= lambda / k as f64;
        cdf += p;
        if p == 0.0 {
            break;
        }
    }
    k
}

/// [`lognormal_mean_cv`] with its location and scale kept for the last
/// (mean, cv) it was asked for: the same numbers, fewer logarithms.
#[derive(Debug, Clone, Copy, Default)]
struct LagTerms {
    key: (u64, u64),
    mu: f64,
    sigma: f64,
}

impl LagTerms {
    fn draw<R: RngCore>(&mut self, rng: &mut R, mean: f64, cv: f64) -> f64 {
        if mean <= 0.0 {
            return 0.0;
        }
        if cv <= 0.0 {
            return mean;
        }
        let key = (mean.to_bits(), cv.to_bits());
        if self.key != key {
            let s2 = (1.0 + cv * cv).ln();
            *self = LagTerms {
                key,
                mu: mean.ln() - s2 / 2.0,
                sigma: s2.sqrt(),
            };
        }
        let z: f64 = rng.sample(StandardNormal);
        (self.mu + self.sigma * z).exp()
    }
}

/// L ~ LogNormal with the given mean and coefficient of variation; no draw
/// when either is zero (docs/model.md s.4 Streams).
#[cfg(test)]
fn lognormal_mean_cv<R: RngCore>(rng: &mut R, mean: f64, cv: f64) -> f64 {
    if mean <= 0.0 {
        return 0.0;
    }
    if cv <= 0.0 {
        return mean;
    }
    let s2 = (1.0 + cv * cv).ln();
    let mu = mean.ln() - s2 / 2.0;
    let z: f64 = rng.sample(StandardNormal);
    (mu + s2.sqrt() * z).exp()
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::rng::{stream, StreamId};

    #[test]
    fn open_unit_stays_inside_the_interval_at_both_ends() {
        use rand::rngs::mock::StepRng;
        let top = open_unit(&mut StepRng::new(u64::MAX, 0));
        assert_eq!(top, LARGEST_BELOW_ONE, "the top word");
        assert!(top < 1.0);
        let gumbel = -(-top.ln()).ln();
        assert!(gumbel.is_finite() && gumbel > 36.0, "{gumbel}");
        let bottom = open_unit(&mut StepRng::new(0, 0));
        assert_eq!(bottom, 0.5 / (1u64 << 53) as f64);
        assert!((-(-bottom.ln()).ln()).is_finite());
        // The word below the top keeps its value (1 - 2^-52: 2^53 - 3/2
        // rounds to the even 2^53 - 2), under the clamp.
        let next = open_unit(&mut StepRng::new(u64::MAX - (1 << 11), 0));
        assert_eq!(next, 1.0 - f64::EPSILON);
    }

    /// `x` moved by `n` units in the last place (n < 0: down, for x > 0).
    fn ulps(x: f64, n: i64) -> f64 {
        f64::from_bits((x.to_bits() as i64 + n) as u64)
    }

    #[test]
    fn exp_bounds_hold_the_exponential() {
        let mut xs = vec![0.0, -0.0, 1e-300, -1e-300, 1e-17, -1e-17, 1e-9, -1e-9];
        xs.extend([-1.0, 1.0, -750.0, -1e300, f64::NEG_INFINITY].iter());
        for x in [-1.0f64, 1.0, 1e-8, -1e-8, 0.5, -0.5] {
            xs.extend((-4..=4).map(|n| ulps(x, n)));
        }
        xs.extend((-4000..1000).map(|i| i as f64 * 1e-3 + 1e-4));
        let mut rng = stream(3, StreamId::World);
        xs.extend((0..5000).map(|_| 4.0 * open_unit(&mut rng) - 3.0));
        for x in xs {
            let e = x.exp();
            match exp_bounds(x) {
                Some((lo, hi)) => {
                    assert!(x < 1.0, "bounds above 1: {x:e}");
                    assert!(lo <= e && e <= hi, "{lo:e} <= e^{x:e} = {e:e} <= {hi:e}");
                }
                None => assert!(x >= 1.0, "no bounds for {x:e}"),
            }
        }
        assert!(exp_bounds(f64::NAN).is_none());
        assert!(exp_bounds(1.0).is_none());
        // The upper bound is tight enough to decide most months (within
        // 25% of e^x where log threats live; a tighter one costs more than
        // it decides); the lower one only has to be positive (it is 0 below
        // -1, where the exact path decides: rare for log threats).
        for x in [-0.75f64, -0.25, 0.0, 0.25, 0.75] {
            let (lo, hi) = exp_bounds(x).unwrap();
            assert!(hi < 1.25 * x.exp() && lo > 0.0, "x = {x}");
        }
    }

    /// The threat and count the plain way: exponential, factors, lambda,
    /// and the Poisson without any shortcut.
    fn threat_and_count_plain(
        log_threat: f64,
        factors: &[f64],
        budget: f64,
        mean_size: f64,
        rng: &mut ChaCha8Rng,
    ) -> (f64, u64) {
        let mut threat = log_threat.exp();
        for f in factors {
            threat *= f;
        }
        let lambda = budget * threat / (12.0 * mean_size);
        let n = if lambda >= 30.0 {
            Poisson::new(lambda)
                .map(|p| p.sample(rng) as u64)
                .unwrap_or(0)
        } else if lambda > 0.0 {
            poisson_by_cdf(open_unit(rng), lambda)
        } else {
            0 // and NaN
        };
        (threat, n)
    }

    #[test]
    fn threat_and_count_are_the_plain_ones_draw_for_draw() {
        let factor_sets: [&[f64]; 9] = [
            &[],
            &[2.0],
            &[0.5, 3.0],
            &[1e-300],
            &[0.0],
            &[-1.0],
            &[1e6],
            &[-0.0],
            &[f64::NAN],
        ];
        let mut pick = stream(5, StreamId::World);
        let (mut fast, mut plain) = (stream(6, StreamId::World), stream(6, StreamId::World));
        let mut decided = 0;
        for k in 0..40_000 {
            // Log threats where they live and beyond, with the edges of
            // the bounds (-1, 0, 1), NaN and far below.
            let log_threat = match k % 50 {
                0 => [-800.0, -1.0, -0.999, -0.0, 0.0, 0.999, 1.0, 5.0, f64::NAN][k / 50 % 9],
                _ => 6.0 * open_unit(&mut pick) - 3.0,
            };
            let factors = factor_sets[k % factor_sets.len()];
            // Means from 1e-6 to about 60, budgets of no demand, and sizes
            // that are no size (an infinite mean would never end).
            let budget = [1.0, 0.0, -1.0, 1e-300, f64::NAN][(k / 8) % 5] * 12.0;
            let mean_size = match k % 37 {
                0 => [-1.0, f64::NAN, f64::INFINITY][k / 37 % 3],
                _ => (14.0 * open_unit(&mut pick) - 10.0).exp(),
            };
            let nothing_returned = k % 3 != 0;
            let got = threat_and_count(
                log_threat,
                factors.iter().copied(),
                budget,
                mean_size,
                nothing_returned,
                &mut fast,
            );
            let (threat, n) =
                threat_and_count_plain(log_threat, factors, budget, mean_size, &mut plain);
            match got {
                Some((t, m)) => {
                    assert_eq!((t.to_bits(), m), (threat.to_bits(), n), "case {k}");
                    assert!(n > 0 || !nothing_returned, "case {k}");
                }
                None => {
                    assert!(nothing_returned && n == 0, "case {k}: n = {n}");
                    decided += 1;
                }
            }
            assert_eq!(fast.next_u64(), plain.next_u64(), "stream after case {k}");
        }
        assert!(
            decided > 1000,
            "only {decided} months decided without a count"
        );
    }

    #[test]
    fn a_sure_zero_is_a_zero_for_every_smaller_mean() {
        let mut rng = stream(4, StreamId::World);
        let mut sure = 0;
        for k in 0..20_000 {
            // Means below 1 (none above can be a sure zero), down to 1e-9
            // where e^-lambda and 1 - lambda are a few ulps apart; uniforms
            // at the threshold and a few ulps either side.
            let lambda_hi = open_unit(&mut rng) * [1.0, 1e-3, 1e-6, 1e-9][k % 4];
            let at = (1.0 - lambda_hi) * (1.0 - 4.0 * f64::EPSILON);
            let u = ulps(at, (k / 4 % 9) as i64 - 4);
            if surely_zero(u, lambda_hi) {
                sure += 1;
                for f in [1.0, 0.999_999_999, 0.9, 0.5, 1e-6] {
                    assert_eq!(
                        poisson_by_cdf(u, lambda_hi * f),
                        0,
                        "u = {u:e}, {lambda_hi:e} x {f}"
                    );
                }
            } else {
                assert!(u > at, "u = {u:e} at or below the threshold {at:e}");
            }
        }
        assert!(sure > 5_000, "{sure} sure zeros");
    }

    #[test]
    fn poisson_shortcut_gives_the_plain_inversion() {
        let mut lambdas = vec![
            1e-300, 1e-30, 1e-17, 1e-16, 2.2e-16, 1e-15, 1e-12, 1e-9, 1e-8, 3e-8, 1e-7, 1e-6,
        ];
        lambdas.extend((1..=300).map(|i| i as f64 * 0.01));
        lambdas.extend([3.5, 7.0, 12.25, 29.99]);
        let mut rng = stream(9, StreamId::World);
        for &lambda in &lambdas {
            // The uniforms where the answer turns: around e^-lambda and
            // 1 - lambda, a few ulps either side, and random ones.
            let mut us = Vec::new();
            for x in [(-lambda).exp(), 1.0 - lambda] {
                if x > 0.0 && x < 1.0 {
                    us.extend(
                        (-8..=8)
                            .map(|n| ulps(x, n))
                            .filter(|u| *u > 0.0 && *u < 1.0),
                    );
                }
            }
            us.extend((0..200).map(|_| open_unit(&mut rng)));
            for u in us {
                assert_eq!(
                    poisson_inversion(u, lambda),
                    poisson_by_cdf(u, lambda),
                    "u = {u:e}, lambda = {lambda:e}"
                );
            }
        }
    }

    /// The memoised lag is the plain formula's number, draw for draw, as
    /// (mean, cv) changes, repeats and hits the no-draw cases.
    #[test]
    fn lag_terms_draw_what_the_formula_draws() {
        let (mut a, mut b) = (stream(9, StreamId::World), stream(9, StreamId::World));
        let mut memo = LagTerms::default();
        let terms = [
            (6.0, 0.4),
            (6.0, 0.4),
            (3.5, 0.0),
            (6.0, 0.4),
            (0.0, 0.3),
            (12.0, 1.1),
        ];
        for k in 0..600 {
            let (mean, cv) = terms[k % terms.len()];
            let got = memo.draw(&mut a, mean, cv);
            let want = lognormal_mean_cv(&mut b, mean, cv);
            assert_eq!(got.to_bits(), want.to_bits(), "draw {k}");
        }
        assert_eq!(a.next_u64(), b.next_u64(), "the streams moved apart");
    }

    /// The month an order is first overdue is the first month the direct
    /// rule `(t - placed) as f64 > limit` holds, or none within the run.
    #[test]
    fn overdue_from_is_the_first_month_the_rule_holds() {
        let months = 40;
        for placed in -30..months {
            for limit in [
                f64::NAN,
                -3.0,
                -0.0,
                0.0,
                0.5,
                1.0,
                7.25,
                12.0,
                33.9,
                80.0,
                1e300,
                f64::INFINITY,
            ] {
                // The run's own test, negated as written (NaN never waits).
                #[allow(clippy::neg_cmp_op_on_partial_ord)]
                let rule = (placed..months).find(|&t| !((t - placed) as f64 <= limit));
                assert_eq!(
                    overdue_from(placed, limit, months),
                    rule,
                    "{placed} {limit}"
                );
            }
        }
    }

    /// Entries due beyond the ring's reach come up in their month, as do
    /// near ones, and nothing comes up twice or early. As in a run, a month
    /// files its entries before it takes its own.
    #[test]
    fn the_due_ring_hands_out_far_entries_in_their_month() {
        let mut ring = DueRing::new();
        let (mut want, mut got) = (Vec::new(), Vec::new());
        let aheads = [0, 1, 63, 127, 128, 129, 191, 200, 500, 1000];
        for t in -20..1200 {
            if (-20..10).contains(&t) {
                for (k, &ahead) in aheads.iter().enumerate() {
                    let seq = (t + 20) as u64 * 100 + k as u64;
                    let entry = OpenOrder {
                        seq,
                        id: 0,
                        ally: 0,
                    };
                    ring.push(t, t + ahead, entry);
                    want.push((t + ahead, seq));
                }
            }
            let due = ring.take(t);
            got.extend(due.iter().map(|e| (t, e.seq)));
            ring.put_back(t, due);
        }
        want.sort();
        got.sort();
        assert_eq!(got, want);
    }
}
