;; A module that says it speaks Wasm interface 2.0 (dibsim speaks 1.x):
;; refused when loaded, before its other exports are looked at.
(module
  (memory (export "memory") 1)
  (func (export "dibsim_wasm_abi") (result i32) (i32.const 0x20000)))
