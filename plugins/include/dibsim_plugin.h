/*
 * dibsim_plugin.h -- the C ABI between dibsim (the host) and a behaviour
 * plugin, version 1.0. For C (C99 or later) and C++.
 *
 * This header is the same contract as the Rust crate plugins/abi
 * (dibsim-plugin-abi, src/lib.rs): every struct below has the layout of the
 * #[repr(C)] struct of the same name there, field for field. A test compares
 * the two (tests/fixtures/plugins/layout.c prints this side's layout).
 *
 * A plugin is a shared library that exports one function,
 *
 *     const dibsim_plugin_table *dibsim_plugin_entry(void);
 *
 * returning a table with static lifetime: use DIBSIM_EXPORT_PLUGIN(table).
 * Build it with, e.g.,
 *
 *     cc -shared -fPIC -O2 -I path/to/plugins/include -o libmine.so mine.c
 *
 * Rules every plugin follows:
 *
 * - Ownership. The host owns every buffer a plugin is handed: the params
 *   text, the per-run state, the observations (offers, requirements, tastes,
 *   lines), the decision buffers (choices, tranches) and the error text.
 *   Pointers are valid only for the duration of the call; keep none.
 *   A plugin never frees host memory and never hands memory back.
 *
 * - State. Each run gets its own state: host memory of `state_size` bytes
 *   aligned to `state_align`, initialised by `create`. It must be plain,
 *   relocatable bytes: the host copies it byte for byte to fork a run and
 *   calls `destroy` on each copy, so it must hold no pointer (into itself or
 *   to memory the plugin allocated) and no handle to a resource.
 *
 * - Threading. The host calls a plugin from several threads at once, but
 *   never two calls with the same state at once. Calls with different states
 *   (different runs of a sweep) may run concurrently, so a plugin must not
 *   use unsynchronised global mutable data.
 *
 * - Randomness. Every random number a plugin uses is handed in (one uniform
 *   draw in (0, 1) per offer, per requirement and, with
 *   DIBSIM_FLAG_INVESTMENT_DRAWS, per line), drawn by the host from the
 *   agent's own stream. Never call rand(), time() or any other source:
 *   runs must stay bit-reproducible for any thread count.
 *
 * - Errors. A function returns DIBSIM_STATUS_OK, or another status after
 *   writing an explanation with dibsim_error_set() / dibsim_error_printf().
 *   Nothing may unwind out of a plugin: a C++ plugin catches every exception
 *   in every function it exports and returns DIBSIM_STATUS_PANIC.
 *
 * - Versioning. The table starts with DIBSIM_PLUGIN_MAGIC, the ABI major and
 *   minor version and the table's size. The host refuses another major
 *   version; it accepts a newer minor, which may only append fields to the
 *   table, and reads the fields it knows.
 */
#ifndef DIBSIM_PLUGIN_H
#define DIBSIM_PLUGIN_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Constants                                                                 */
/* ------------------------------------------------------------------------ */

/** "DIBSIMPL": the first field of every table. */
#define DIBSIM_PLUGIN_MAGIC 0x44494253494D504CULL
/** The ABI version this header describes. */
#define DIBSIM_ABI_MAJOR 1u
#define DIBSIM_ABI_MINOR 0u
/** The symbol every plugin exports (see DIBSIM_EXPORT_PLUGIN). */
#define DIBSIM_ENTRY_SYMBOL "dibsim_plugin_entry"

/** Slot bits of dibsim_plugin_table.slots. */
#define DIBSIM_SLOT_PROCUREMENT 1u
#define DIBSIM_SLOT_CONTRACTOR_INVESTMENT 2u
#define DIBSIM_SLOT_COMPETITOR_INVESTMENT 4u

/** dibsim_plugin_table.flags: the invest function reads dibsim_line_view.draw
 *  (without it the host does not draw, and every draw is 0.5). */
#define DIBSIM_FLAG_INVESTMENT_DRAWS 1u

/** Return codes. Any value other than DIBSIM_STATUS_OK is an error; the host
 *  interprets no other value (an unknown code is an error, not undefined). */
#define DIBSIM_STATUS_OK 0
#define DIBSIM_STATUS_ERROR 1
/** A panic or C++ exception caught at the boundary. */
#define DIBSIM_STATUS_PANIC 2

/** choices[k] for "none of the offers" (the outside option). */
#define DIBSIM_OUTSIDE (-1)

/** dibsim_error_out.item when the error is about no item in particular. */
#define DIBSIM_NO_ITEM (-1)

/* ------------------------------------------------------------------------ */
/* Observations                                                              */
/* ------------------------------------------------------------------------ */

/** One line's quote to one requirement (docs/model.md step 2). 64 bytes. */
typedef struct dibsim_offer {
    /** Index of the production line. */
    uint32_t line;
    /** Index of the line's exporter. */
    uint32_t exporter;
    /** Quality of the line's product. */
    double quality;
    /** Price index (1 = the category's reference price). */
    double price_index;
    /** W: expected months to delivery. */
    double wait_months;
    /** S: spread of the approval time, months. */
    double spread_months;
    /** a(e, i) of the line's exporter with the buying ally. */
    double alignment;
    /** rho_e of the line's exporter. */
    double reputation;
    /** A uniform draw in (0, 1) from the ally's stream, one per offer. */
    double draw;
} dibsim_offer;

/** One requirement of one ally; its offers are
 *  offers[offer_start .. offer_start + offer_count). 40 bytes. */
typedef struct dibsim_requirement {
    /** Index of the ally (into the call's tastes, and the scenario's allies). */
    uint32_t ally;
    /** Index of the category. */
    uint32_t category;
    /** Q: the requirement's size, TIV. */
    double size;
    /** theta_i this month (events applied). */
    double threat;
    /** A uniform draw in (0, 1) for the outside option. */
    double outside_draw;
    /** First of its offers in dibsim_procurement_call.offers. */
    uint32_t offer_start;
    /** Number of its offers (may be 0). */
    uint32_t offer_count;
} dibsim_requirement;

/** An ally's weights (docs/model.md s.3). 48 bytes. */
typedef struct dibsim_taste {
    double beta_quality;
    double beta_price;
    double beta_time;
    double beta_uncertainty;
    double beta_alignment;
    /** Utility of the outside option (buying nothing). */
    double outside_utility;
} dibsim_taste;

/** One production line as its owner's investment rule sees it
 *  (docs/model.md step 10). 120 bytes. */
typedef struct dibsim_line_view {
    /** Index of the line. */
    uint32_t line;
    /** Index of the owner (the scenario's suppliers, in order). */
    uint32_t owner;
    /** Index of the category. */
    uint32_t category;
    /** 0 high tier, 1 low tier. */
    uint32_t tier;
    /** K: capacity online, TIV/month. */
    double capacity;
    /** Capacity ordered, not yet online, TIV/month. */
    double pipeline;
    /** Domestic backlog, TIV. */
    double backlog_domestic;
    /** Approved foreign orders not yet produced, TIV. */
    double backlog_foreign_approved;
    /** m = (B_dom + B_for,approved) / (K + pipeline), months. */
    double backlog_months;
    /** Owner's cash, US$ M, before this month's tranches. */
    double cash;
    /** Owner's credit limit, US$ M. */
    double credit_limit;
    /** US$ M per TIV/month of capacity, before subsidy. */
    double capex_per_unit;
    /** Share of capex the government pays, in [0, 1]. */
    double subsidy;
    /** invest_threshold' (subsidy applied), months. */
    double threshold_months;
    /** target' (subsidy applied), months. */
    double target_months;
    /** Largest tranche the built-in rule orders, as a share of K. */
    double max_growth;
    /** A uniform draw in (0, 1) from the owner's stream (0.5 unless the
     *  plugin sets DIBSIM_FLAG_INVESTMENT_DRAWS). */
    double draw;
} dibsim_line_view;

/** One procurement call: a batch of requirements, of one or more allies.
 *  Every array is host-owned and valid only during the call. 48 bytes. */
typedef struct dibsim_procurement_call {
    /** Month of the run (0 = the scenario's start). */
    int32_t month;
    /** Length of requirements (and of the choices buffer). */
    uint32_t n_requirements;
    const dibsim_requirement *requirements;
    /** Length of offers. */
    uint32_t n_offers;
    const dibsim_offer *offers;
    /** Length of tastes; indexed by dibsim_requirement.ally. */
    uint32_t n_tastes;
    const dibsim_taste *tastes;
} dibsim_procurement_call;

/** One investment call: a batch of lines, of one or more owners.
 *  16 bytes. */
typedef struct dibsim_investment_call {
    /** Month of the run (0 = the scenario's start). */
    int32_t month;
    /** Length of lines (and of the tranches buffer). */
    uint32_t n_lines;
    /** Host-owned, valid only during the call. */
    const dibsim_line_view *lines;
} dibsim_investment_call;

/** Where a plugin explains an error. The host owns `message` (`capacity`
 *  bytes); the plugin writes UTF-8 text there (not NUL-terminated: the host
 *  reads `len` bytes) and sets `len` <= `capacity`. Use dibsim_error_set()
 *  or dibsim_error_printf(). 32 bytes. */
typedef struct dibsim_error_out {
    /** Host-owned buffer of `capacity` bytes. */
    uint8_t *message;
    /** Size of `message`, bytes. */
    size_t capacity;
    /** Bytes of text written by the plugin (0 when the host calls). */
    size_t len;
    /** Index (in the call's batch) of the requirement or line the call
     *  failed on, or DIBSIM_NO_ITEM (-1, the host's initial value). */
    int64_t item;
} dibsim_error_out;

/* ------------------------------------------------------------------------ */
/* Functions a plugin provides                                               */
/* ------------------------------------------------------------------------ */

/** Initialises one run's `state` (host memory of state_size bytes, aligned
 *  to state_align) from the scenario's parameters: a JSON object, UTF-8,
 *  `params_len` bytes, NOT NUL-terminated ("{}" when none are given).
 *  On failure, return another status with a message: the host then frees
 *  the state without calling destroy. The host may create a state only to
 *  check the params before any run, and destroy it at once. */
typedef int32_t (*dibsim_create_fn)(const uint8_t *params, size_t params_len,
                                    void *state, dibsim_error_out *err);

/** Ends a run's state; the host frees the memory itself. Called once for
 *  every state create succeeded on, and once for every byte copy of one
 *  (forks). Nullable. */
typedef void (*dibsim_destroy_fn)(void *state);

/** Ally procurement (docs/model.md step 5). Writes choices[k] for each
 *  requirement k < call->n_requirements: the index of the chosen offer
 *  among requirement k's own offers (0 .. offer_count - 1), or
 *  DIBSIM_OUTSIDE. The host checks every choice. */
typedef int32_t (*dibsim_procure_fn)(void *state,
                                     const dibsim_procurement_call *call,
                                     int32_t *choices, dibsim_error_out *err);

/** Contractor or competitor investment (docs/model.md step 10). Writes
 *  tranches[k] for each line k < call->n_lines: the capacity (TIV/month) the
 *  line orders, 0 for none (the buffer holds zeros when called). The host
 *  refuses a negative or non-finite tranche and shrinks one to the owner's
 *  credit. */
typedef int32_t (*dibsim_invest_fn)(void *state,
                                    const dibsim_investment_call *call,
                                    double *tranches, dibsim_error_out *err);

/* ------------------------------------------------------------------------ */
/* The table                                                                 */
/* ------------------------------------------------------------------------ */

/** What dibsim_plugin_entry returns: a table with static lifetime, e.g. a
 *  `static const` object. 96 bytes for ABI 1.0. The host refuses a table
 *  whose magic or major version differ, whose size is below
 *  sizeof(dibsim_plugin_table), whose name or version is NULL, which has no
 *  create function, declares no slot, or lacks the function of a slot it
 *  declares, whose state_align is not a power of two in [1, 4096], or whose
 *  state_size is over 16 MiB. */
typedef struct dibsim_plugin_table {
    /** DIBSIM_PLUGIN_MAGIC. */
    uint64_t magic;
    /** DIBSIM_ABI_MAJOR. */
    uint32_t abi_major;
    /** DIBSIM_ABI_MINOR (a newer minor may only append fields). */
    uint32_t abi_minor;
    /** sizeof the table as the plugin built it:
     *  sizeof(dibsim_plugin_table) for ABI 1.0. */
    uint64_t size;
    /** NUL-terminated UTF-8, static, not NULL: the plugin's name. */
    const char *name;
    /** NUL-terminated UTF-8, static, not NULL: the plugin's version. */
    const char *version;
    /** DIBSIM_SLOT_* bits: the slots it can fill (at least one). */
    uint32_t slots;
    /** DIBSIM_FLAG_* bits. */
    uint32_t flags;
    /** sizeof the per-run state, bytes (0 allowed, at most 16 MiB). */
    uint64_t state_size;
    /** Alignment of the per-run state: a power of two, 1 .. 4096
     *  (DIBSIM_ALIGNOF(your_state)). */
    uint64_t state_align;
    /** Required. */
    dibsim_create_fn create;
    /** Nullable. */
    dibsim_destroy_fn destroy;
    /** Required with DIBSIM_SLOT_PROCUREMENT, else nullable. */
    dibsim_procure_fn procure;
    /** Required with an investment slot, else nullable. */
    dibsim_invest_fn invest;
} dibsim_plugin_table;

/** The first fields of every version's table: what the host reads before
 *  anything else (an older or foreign table may be shorter). 24 bytes. */
typedef struct dibsim_table_header {
    uint64_t magic;
    uint32_t abi_major;
    uint32_t abi_minor;
    uint64_t size;
} dibsim_table_header;

/** The type of dibsim_plugin_entry. */
typedef const dibsim_plugin_table *(*dibsim_entry_fn)(void);

/* ------------------------------------------------------------------------ */
/* Helpers for plugin authors                                                */
/* ------------------------------------------------------------------------ */

/** Alignment of a type, for dibsim_plugin_table.state_align. */
#if defined(__cplusplus) && (__cplusplus >= 201103L || (defined(_MSVC_LANG) && _MSVC_LANG >= 201103L))
#define DIBSIM_ALIGNOF(type) alignof(type)
#elif !defined(__cplusplus) && defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define DIBSIM_ALIGNOF(type) _Alignof(type)
#elif defined(__GNUC__) || defined(__clang__)
#define DIBSIM_ALIGNOF(type) __alignof__(type)
#elif defined(_MSC_VER)
#define DIBSIM_ALIGNOF(type) __alignof(type)
#else
#define DIBSIM_ALIGNOF(type) offsetof(struct { char c_; type t_; }, t_)
#endif

/** Marks a function exported from the shared library. */
#if defined(_WIN32) || defined(__CYGWIN__)
#define DIBSIM_EXPORT __declspec(dllexport)
#elif defined(__GNUC__) || defined(__clang__)
#define DIBSIM_EXPORT __attribute__((visibility("default")))
#else
#define DIBSIM_EXPORT
#endif

#ifdef __cplusplus
#define DIBSIM_EXTERN_C extern "C"
#else
#define DIBSIM_EXTERN_C
#endif

/** Defines the plugin's entry point, returning the address of `table`, a
 *  dibsim_plugin_table object with static storage:
 *
 *      static const dibsim_plugin_table my_table = { ... };
 *      DIBSIM_EXPORT_PLUGIN(my_table)
 *
 *  Use it once per library, at file scope (in C++ it declares the entry
 *  extern "C" itself). The entry does nothing but return the pointer, and
 *  may be called more than once. */
#define DIBSIM_EXPORT_PLUGIN(table)                                           \
    DIBSIM_EXTERN_C DIBSIM_EXPORT const dibsim_plugin_table *                 \
    dibsim_plugin_entry(void);                                                \
    DIBSIM_EXTERN_C DIBSIM_EXPORT const dibsim_plugin_table *                 \
    dibsim_plugin_entry(void)                                                 \
    {                                                                         \
        return &(table);                                                      \
    }

#if defined(__cplusplus) || (defined(__STDC_VERSION__) && __STDC_VERSION__ >= 199901L)
#define DIBSIM_INLINE static inline
#elif defined(__GNUC__) || defined(__clang__)
#define DIBSIM_INLINE static __inline__
#elif defined(_MSC_VER)
#define DIBSIM_INLINE static __inline
#else
#define DIBSIM_INLINE static
#endif

#if defined(__GNUC__) || defined(__clang__)
#define DIBSIM_PRINTF_LIKE(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define DIBSIM_PRINTF_LIKE(fmt, args)
#endif

/** The length of the longest prefix of s[0 .. n) that does not end inside a
 *  UTF-8 multi-byte sequence (so that truncated text stays valid UTF-8). */
DIBSIM_INLINE size_t dibsim_utf8_prefix_(const uint8_t *s, size_t n)
{
    size_t i = n, back = 0, need;
    uint8_t lead;
    while (i > 0 && back < 3 && (s[i - 1] & 0xC0u) == 0x80u) {
        i--;
        back++;
    }
    if (i == 0)
        return n;
    lead = s[i - 1];
    if (lead < 0xC0u)
        return n; /* ASCII (or a stray continuation byte): nothing cut */
    need = lead >= 0xF0u ? 4u : lead >= 0xE0u ? 3u : 2u;
    return (n - (i - 1) < need) ? i - 1 : n;
}

/** Writes `message` (NUL-terminated UTF-8; NULL for none) into `err`,
 *  truncated to its capacity on a character boundary, and sets `err->item`
 *  (DIBSIM_NO_ITEM, or the index of the failing requirement or line).
 *  Safe with a NULL `err` or a NULL or empty buffer. */
DIBSIM_INLINE void dibsim_error_set(dibsim_error_out *err, int64_t item, const char *message)
{
    size_t n = 0;
    if (err == NULL)
        return;
    err->item = item;
    err->len = 0;
    if (err->message == NULL || err->capacity == 0 || message == NULL)
        return;
    while (n < err->capacity && message[n] != '\0')
        n++;
    memcpy(err->message, message, n);
    if (message[n] != '\0') /* truncated (n == capacity) */
        n = dibsim_utf8_prefix_(err->message, n);
    err->len = n;
}

/** As dibsim_error_set, with a printf format. The last byte of the buffer is
 *  lost to vsnprintf's terminating NUL. */
DIBSIM_INLINE void dibsim_error_printf(dibsim_error_out *err, int64_t item, const char *format,
                                       ...) DIBSIM_PRINTF_LIKE(3, 4);
DIBSIM_INLINE void dibsim_error_printf(dibsim_error_out *err, int64_t item, const char *format,
                                       ...)
{
    va_list ap;
    int w;
    size_t n;
    if (err == NULL)
        return;
    err->item = item;
    err->len = 0;
    if (err->message == NULL || err->capacity == 0 || format == NULL)
        return;
    va_start(ap, format);
    w = vsnprintf((char *)err->message, err->capacity, format, ap);
    va_end(ap);
    if (w < 0)
        return;
    n = (size_t)w;
    if (n >= err->capacity) /* truncated */
        n = dibsim_utf8_prefix_(err->message, err->capacity - 1);
    err->len = n;
}

/* ------------------------------------------------------------------------ */
/* Layout checks (64-bit targets: LP64 and Windows LLP64)                    */
/* ------------------------------------------------------------------------ */

#if !defined(DIBSIM_NO_LAYOUT_ASSERTS) && \
    (defined(__LP64__) || defined(_LP64) || defined(_WIN64))
#if defined(__cplusplus) && (__cplusplus >= 201103L || (defined(_MSVC_LANG) && _MSVC_LANG >= 201103L))
#define DIBSIM_ASSERT_(cond, msg) static_assert(cond, msg)
#elif !defined(__cplusplus) && defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define DIBSIM_ASSERT_(cond, msg) _Static_assert(cond, msg)
#endif
#ifdef DIBSIM_ASSERT_
/* The sizes of the #[repr(C)] structs of dibsim-plugin-abi on 64-bit targets. */
DIBSIM_ASSERT_(sizeof(dibsim_offer) == 64, "dibsim_offer is 64 bytes");
DIBSIM_ASSERT_(sizeof(dibsim_requirement) == 40, "dibsim_requirement is 40 bytes");
DIBSIM_ASSERT_(sizeof(dibsim_taste) == 48, "dibsim_taste is 48 bytes");
DIBSIM_ASSERT_(sizeof(dibsim_line_view) == 120, "dibsim_line_view is 120 bytes");
DIBSIM_ASSERT_(sizeof(dibsim_procurement_call) == 48, "dibsim_procurement_call is 48 bytes");
DIBSIM_ASSERT_(sizeof(dibsim_investment_call) == 16, "dibsim_investment_call is 16 bytes");
DIBSIM_ASSERT_(sizeof(dibsim_error_out) == 32, "dibsim_error_out is 32 bytes");
DIBSIM_ASSERT_(sizeof(dibsim_plugin_table) == 96, "dibsim_plugin_table is 96 bytes");
DIBSIM_ASSERT_(sizeof(dibsim_table_header) == 24, "dibsim_table_header is 24 bytes");
/* The offsets most easily got wrong (padding after a 32-bit field). */
DIBSIM_ASSERT_(offsetof(dibsim_requirement, offer_start) == 32, "dibsim_requirement.offer_start");
DIBSIM_ASSERT_(offsetof(dibsim_procurement_call, offers) == 24, "dibsim_procurement_call.offers");
DIBSIM_ASSERT_(offsetof(dibsim_procurement_call, tastes) == 40, "dibsim_procurement_call.tastes");
DIBSIM_ASSERT_(offsetof(dibsim_plugin_table, slots) == 40, "dibsim_plugin_table.slots");
DIBSIM_ASSERT_(offsetof(dibsim_plugin_table, create) == 64, "dibsim_plugin_table.create");
DIBSIM_ASSERT_(offsetof(dibsim_plugin_table, invest) == 88, "dibsim_plugin_table.invest");
#undef DIBSIM_ASSERT_
#endif
#endif

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* DIBSIM_PLUGIN_H */
