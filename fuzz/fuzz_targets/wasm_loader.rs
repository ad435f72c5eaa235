//! The Wasm plugin loader: any bytes (binary or text) are compiled and
//! checked; a module that passes is given a run's instance and one small
//! procurement call (and one investment call) under fuel and the memory
//! cap. Refusals and faults are errors; nothing may panic or abort.
#![no_main]

use std::path::Path;
use std::sync::Arc;

use dibsim_core::behaviour::{
    Investment, LineView, Offer, Procurement, ProcurementBatch, Requirement, Taste,
};
use dibsim_plugin_wasm::{compile_bytes, WasmInvestment, WasmProcurement};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() > 256 << 10 {
        return;
    }
    let text = !data.starts_with(b"\0asm");
    let Ok(module) = compile_bytes(Path::new("fuzz.wasm"), data, text) else {
        return;
    };
    let module = Arc::new(module);
    if let Ok(p) = WasmProcurement::new(Arc::clone(&module), "{}") {
        if let Ok(Some(run)) = p.for_run() {
            let tastes = [Taste {
                beta_quality: 1.0,
                beta_price: 1.0,
                beta_time: 1.0,
                beta_uncertainty: 0.5,
                beta_alignment: 0.5,
                outside_utility: -4.0,
            }];
            let requirements = [Requirement {
                ally: 0,
                category: 0,
                size: 10.0,
                threat: 1.0,
                outside_draw: 0.5,
                offer_start: 0,
                offer_count: 1,
            }];
            let offers = [Offer {
                line: 0,
                exporter: 0,
                quality: 0.8,
                price_index: 1.0,
                wait_months: 24.0,
                spread_months: 3.0,
                alignment: 0.5,
                reputation: 1.0,
                draw: 0.5,
            }];
            let batch = ProcurementBatch {
                month: 0,
                tastes: &tastes,
                requirements: &requirements,
                offers: &offers,
            };
            let mut choices = [0];
            let _ = run.choose(&batch, &mut choices);
            let _ = run.fork().map(|f| f.choose(&batch, &mut choices));
        }
    }
    if let Ok(p) = WasmInvestment::new(module, "contractor_investment", "{}") {
        if let Ok(Some(run)) = p.for_run() {
            let line = LineView {
                line: 0,
                owner: 0,
                category: 0,
                tier: 0,
                capacity: 10.0,
                pipeline: 0.0,
                backlog_domestic: 5.0,
                backlog_foreign_approved: 5.0,
                backlog_months: 1.0,
                cash: 100.0,
                credit_limit: 10.0,
                capex_per_unit: 1.0,
                subsidy: 0.0,
                threshold_months: 18.0,
                target_months: 12.0,
                max_growth: 0.25,
                draw: 0.5,
            };
            let mut tranches = [0.0];
            let _ = run.invest(0, &[line], &mut tranches);
        }
    }
});
