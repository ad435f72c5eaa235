;; A module that keeps state in mutable globals (a heap pointer beside the
;; stack pointer, as AssemblyScript or TinyGo do): refused when loaded,
;; since a forked run copies only the instance's linear memory.
(module
  (global $stack (mut i32) (i32.const 65536))
  (global $heap (mut i32) (i32.const 1024))
  (memory (export "memory") 2)
  (func (export "dibsim_wasm_abi") (result i32) (i32.const 0x10000)))
