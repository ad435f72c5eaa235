;; A hand-written dibsim Wasm plugin (interface 1.0, plugins/abi/src/wasm.rs)
;; for tests/wasm.rs: it takes the first offer of every requirement and
;; invests nothing, unless its params say otherwise. dibsim hands params as
;; compact JSON, so with `params = { mode = "..." }` byte 9 of the text is
;; the mode's first letter, the only thing this module reads:
;;   ok      behave
;;   loop    procure never returns (fuel must stop it)
;;   memory  procure grows memory without end (the memory cap must stop it)
;;   trap    procure executes `unreachable`
;;   error   procure returns status 1 with a message, on requirement 0
;;   range   procure chooses offer 99
;;   nan     invest orders NaN capacity
(module
  (memory (export "memory") 2)
  ;; WasmInfo at 64: slots 7 (procurement, both investments), flags 0,
  ;; name at 1024 (14 bytes), version at 1040 (5 bytes).
  (data (i32.const 64) "\07\00\00\00\00\00\00\00\00\04\00\00\0e\00\00\00\10\04\00\00\05\00\00\00")
  ;; WasmError at 96: message at 1100 (13 bytes), item 0.
  (data (i32.const 96) "\4c\04\00\00\0d\00\00\00\00\00\00\00\00\00\00\00")
  (data (i32.const 1024) "wasm-fixture-1")
  (data (i32.const 1040) "1.0.0")
  (data (i32.const 1100) "fixture error")
  ;; The mode letter lives at 200.
  (func (export "dibsim_wasm_abi") (result i32) (i32.const 0x10000))
  (func (export "dibsim_wasm_info") (result i32) (i32.const 64))
  (func (export "dibsim_wasm_error") (result i32) (i32.const 96))
  ;; The call buffer starts at 65536 and grows the memory as needed.
  (func (export "dibsim_wasm_buffer") (param $n i32) (result i32)
    (local $need i32)
    (local.set $need (i32.add (i32.const 2) (i32.shr_u (local.get $n) (i32.const 16))))
    (if (i32.gt_u (local.get $need) (memory.size))
      (then
        (if (i32.eq (memory.grow (i32.sub (local.get $need) (memory.size))) (i32.const -1))
          (then (return (i32.const 0))))))
    (i32.const 65536))
  (func (export "dibsim_wasm_create") (param $p i32) (param $len i32) (result i32)
    (if (i32.gt_u (local.get $len) (i32.const 9))
      (then (i32.store8 (i32.const 200) (i32.load8_u offset=9 (local.get $p))))
      (else (i32.store8 (i32.const 200) (i32.const 0x6f))))
    (i32.const 0))
  (func (export "dibsim_wasm_procure")
    (param $month i32) (param $req i32) (param $nreq i32) (param $off i32)
    (param $noff i32) (param $tastes i32) (param $ntastes i32) (param $ch i32)
    (result i32)
    (local $k i32) (local $mode i32)
    (local.set $mode (i32.load8_u (i32.const 200)))
    (if (i32.eq (local.get $mode) (i32.const 0x6c)) ;; l: loop
      (then (loop $forever (br $forever))))
    (if (i32.eq (local.get $mode) (i32.const 0x6d)) ;; m: memory
      (then (loop $grow (drop (memory.grow (i32.const 64))) (br $grow))))
    (if (i32.eq (local.get $mode) (i32.const 0x74)) ;; t: trap
      (then unreachable))
    (if (i32.eq (local.get $mode) (i32.const 0x65)) ;; e: error
      (then (return (i32.const 1))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $k) (local.get $nreq)))
        (i32.store
          (i32.add (local.get $ch) (i32.shl (local.get $k) (i32.const 2)))
          (if (result i32) (i32.eq (local.get $mode) (i32.const 0x72)) ;; r: range
            (then (i32.const 99))
            (else
              ;; offer_count is at byte 36 of a 40-byte Requirement
              (select (i32.const 0) (i32.const -1)
                (i32.load offset=36
                  (i32.add (local.get $req) (i32.mul (local.get $k) (i32.const 40))))))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $next)))
    (i32.const 0))
  (func (export "dibsim_wasm_invest")
    (param $month i32) (param $lines i32) (param $n i32) (param $tr i32) (result i32)
    (local $k i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $k) (local.get $n)))
        (f64.store
          (i32.add (local.get $tr) (i32.shl (local.get $k) (i32.const 3)))
          (if (result f64) (i32.eq (i32.load8_u (i32.const 200)) (i32.const 0x6e)) ;; n: nan
            (then (f64.div (f64.const 0) (f64.const 0)))
            (else (f64.const 0))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $next)))
    (i32.const 0))
)
