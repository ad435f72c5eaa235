;; A plugin-shaped module that imports a WASI function (to write to a file
;; descriptor): refused when loaded, since a plugin is given no imports.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "dibsim_wasm_abi") (result i32) (i32.const 0x10000)))
