//! A test fixture: behaves like "always the first offer" and "no
//! investment" until month `month`, then commits the fault its params name
//! (`{"fault": "panic" | "error" | "out_of_range" | "nan" | "negative" |
//! "reject" | "create_panic", "month": 0}`), in either slot; `reject` and
//! `create_panic` fail in `create`. The host must stop the run with
//! a message naming the plugin, slot, agent and month, and never abort.

use dibsim_plugin_sdk::{export_plugin, Fault, Invest, LineView, Plugin, Procure, ProcurementCall};

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    None,
    Panic,
    Error,
    OutOfRange,
    Nan,
    Negative,
}

#[derive(Clone, Copy)]
pub struct Faulty {
    kind: Kind,
    month: i32,
}

impl Plugin for Faulty {
    fn create(params: &str) -> Result<Self, String> {
        // A tiny reader for this fixture's two flat fields.
        let field = |key: &str| -> Option<String> {
            let at = params.find(&format!("\"{key}\""))?;
            let rest = params[at + key.len() + 2..]
                .trim_start()
                .strip_prefix(':')?
                .trim_start();
            let end = rest.find([',', '}']).unwrap_or(rest.len());
            Some(rest[..end].trim().trim_matches('"').to_string())
        };
        let kind = match field("fault").as_deref() {
            None | Some("none") => Kind::None,
            Some("panic") => Kind::Panic,
            Some("error") => Kind::Error,
            Some("out_of_range") => Kind::OutOfRange,
            Some("nan") => Kind::Nan,
            Some("negative") => Kind::Negative,
            Some("reject") => return Err("params rejected on purpose (fault = \"reject\")".into()),
            Some("create_panic") => panic!("fixture panic in create"),
            Some(other) => return Err(format!("unknown fault `{other}`")),
        };
        let month = match field("month") {
            None => 0,
            Some(m) => m
                .parse()
                .map_err(|_| format!("`month` must be an integer, got {m}"))?,
        };
        Ok(Faulty { kind, month })
    }
}

impl Procure for Faulty {
    fn procure(&mut self, call: &ProcurementCall<'_>, choices: &mut [i32]) -> Result<(), Fault> {
        let active = call.month >= self.month;
        for (k, r) in call.requirements.iter().enumerate() {
            choices[k] = if r.offer_count > 0 { 0 } else { -1 };
            if !active {
                continue;
            }
            match self.kind {
                Kind::Panic => panic!("fixture panic in procurement at month {}", call.month),
                Kind::Error => return Err(Fault::at(k, "fixture error in procurement")),
                Kind::OutOfRange => choices[k] = r.offer_count as i32 + 5,
                _ => {}
            }
        }
        Ok(())
    }
}

impl Invest for Faulty {
    fn invest(
        &mut self,
        month: i32,
        lines: &[LineView],
        tranches: &mut [f64],
    ) -> Result<(), Fault> {
        tranches.iter_mut().for_each(|t| *t = 0.0);
        if month < self.month || lines.is_empty() {
            return Ok(());
        }
        match self.kind {
            Kind::Panic => panic!("fixture panic in investment at month {month}"),
            Kind::Error => return Err(Fault::at(0, "fixture error in investment")),
            Kind::Nan => tranches[0] = f64::NAN,
            Kind::Negative => tranches[0] = -1.0,
            _ => {}
        }
        Ok(())
    }
}

export_plugin!(Faulty, procurement, investment);
