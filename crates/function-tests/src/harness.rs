//! Runs a `shopify_function` 2.x module the way Shopify's function-runner does: the provider
//! module (Shopify's, from crates.io) holds the MessagePack input and output; the Function
//! imports `shopify_function_v2`. Each import is a host function that calls the provider's
//! `_`-prefixed export (the five that pass guest memory also copy bytes between the two
//! memories). Fuel counts the instructions of both modules; the fuel spent inside the provider
//! is also counted apart, so the benchmark can say how much of a run is Shopify's input reading.

use std::path::Path;

use anyhow::{Context as _, anyhow, bail};
use wasmtime::{Caller, Config, Engine, Instance, Linker, Memory, Module, Store, TypedFunc};

const IMPORT_MODULE: &str = "shopify_function_v2";
/// Fuel available to one run: far above any limit, so a run never stops for lack of it.
const FUEL: u64 = 1 << 40;

/// What one run produced.
#[derive(Debug, Clone)]
pub struct RunResult {
    pub output: serde_json::Value,
    pub logs: String,
    /// Wasm instructions executed (wasmtime fuel), Function and provider together.
    pub instructions: u64,
    /// Of `instructions`, those spent inside the provider (reading input, writing output).
    pub provider_instructions: u64,
    /// Linear memory of both modules after the run (memories never shrink: this is the peak).
    pub memory_bytes: u64,
}

/// The compiled modules; compile once, run many times.
pub struct FunctionRunner {
    engine: Engine,
    provider: Module,
    function: Module,
    export: String,
}

struct Shims {
    guest_memory: Option<Memory>,
    /// Fuel spent inside the provider's exports, measured around each import call.
    provider_instructions: u64,
}

/// The export of the `cancel-policy.order-cancellation.run` target.
pub const EXPORT: &str = "order_cancellation_run";

impl FunctionRunner {
    /// The order-cancellation target of a built Function, with its provider.
    pub fn order_cancellation(artifacts: &crate::build::Artifacts) -> anyhow::Result<Self> {
        Self::new(&artifacts.function, &artifacts.provider, EXPORT)
    }

    pub fn new(function: &Path, provider: &Path, export: &str) -> anyhow::Result<Self> {
        let mut config = Config::new();
        config.consume_fuel(true);
        let engine = Engine::new(&config)?;
        let provider = Module::from_file(&engine, provider)
            .with_context(|| format!("loading {}", provider.display()))?;
        let function = Module::from_file(&engine, function)
            .with_context(|| format!("loading {}", function.display()))?;
        Ok(FunctionRunner {
            engine,
            provider,
            function,
            export: export.to_string(),
        })
    }

    /// Runs the Function on `input` (the JSON the input query would return).
    pub fn run(&self, input: &serde_json::Value) -> anyhow::Result<RunResult> {
        let mut store = Store::new(
            &self.engine,
            Shims {
                guest_memory: None,
                provider_instructions: 0,
            },
        );
        store.set_fuel(FUEL)?;
        let provider = Instance::new(&mut store, &self.provider, &[])?;
        let provider_memory = provider
            .get_memory(&mut store, "memory")
            .ok_or_else(|| anyhow!("the provider exports no memory"))?;

        let mut linker: Linker<Shims> = Linker::new(&self.engine);
        for import in self.function.imports() {
            if import.module() != IMPORT_MODULE {
                bail!("unexpected import {}::{}", import.module(), import.name());
            }
            let name = import.name();
            if !link_shim(&mut linker, &mut store, &provider, provider_memory, name)? {
                let export = provider
                    .get_func(&mut store, &format!("_{name}"))
                    .ok_or_else(|| anyhow!("the provider does not export `_{name}`"))?;
                let ty = export.ty(&store);
                linker.func_new(
                    IMPORT_MODULE,
                    name,
                    ty,
                    move |mut caller, params, results| {
                        metered(&mut caller, |caller| export.call(caller, params, results))
                    },
                )?;
            }
        }
        let function = linker.instantiate(&mut store, &self.function)?;
        let guest_memory = function
            .get_memory(&mut store, "memory")
            .ok_or_else(|| anyhow!("the Function exports no memory"))?;
        store.data_mut().guest_memory = Some(guest_memory);

        let input_bytes = rmp_serde::to_vec(input)?;
        let initialize: TypedFunc<i32, i32> = provider.get_typed_func(&mut store, "initialize")?;
        let input_len = i32::try_from(input_bytes.len())?;
        let input_at = initialize.call(&mut store, input_len)?;
        provider_memory.write(&mut store, usize::try_from(input_at)?, &input_bytes)?;

        let run: TypedFunc<(), ()> = function.get_typed_func(&mut store, &self.export)?;
        run.call(&mut store, ())?;

        let finalize: TypedFunc<(), i32> = provider.get_typed_func(&mut store, "finalize")?;
        let results_at = usize::try_from(finalize.call(&mut store, ())?)?;
        let mut words = [0u8; 24];
        provider_memory.read(&store, results_at, &mut words)?;
        let word = |i: usize| -> anyhow::Result<usize> {
            let bytes: [u8; 4] = words
                .get(i * 4..i * 4 + 4)
                .and_then(|s| s.try_into().ok())
                .ok_or_else(|| anyhow!("short finalize result"))?;
            Ok(u32::from_le_bytes(bytes) as usize)
        };
        let read = |store: &Store<Shims>, at: usize, len: usize| -> anyhow::Result<Vec<u8>> {
            let mut bytes = vec![0u8; len];
            if len > 0 {
                provider_memory.read(store, at, &mut bytes)?;
            }
            Ok(bytes)
        };
        let output_bytes = read(&store, word(0)?, word(1)?)?;
        let mut log_bytes = read(&store, word(2)?, word(3)?)?;
        log_bytes.extend(read(&store, word(4)?, word(5)?)?);
        let output: serde_json::Value = rmp_serde::from_slice(&output_bytes)
            .context("decoding the Function's MessagePack output")?;

        let instructions = FUEL - store.get_fuel()?;
        let memory_bytes =
            (provider_memory.data_size(&store) + guest_memory.data_size(&store)) as u64;
        Ok(RunResult {
            output,
            logs: String::from_utf8_lossy(&log_bytes).into_owned(),
            instructions,
            provider_instructions: store.data().provider_instructions,
            memory_bytes,
        })
    }
}

/// Runs `call` and adds the fuel it used to the provider's share.
fn metered<T>(
    caller: &mut Caller<'_, Shims>,
    call: impl FnOnce(&mut Caller<'_, Shims>) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let before = caller.get_fuel()?;
    let result = call(caller)?;
    let spent = before.saturating_sub(caller.get_fuel()?);
    caller.data_mut().provider_instructions += spent;
    Ok(result)
}

fn guest(caller: &Caller<'_, Shims>) -> anyhow::Result<Memory> {
    caller
        .data()
        .guest_memory
        .ok_or_else(|| anyhow!("the Function called its provider before it was instantiated"))
}

fn copy(
    caller: &mut Caller<'_, Shims>,
    from: Memory,
    from_at: usize,
    to: Memory,
    to_at: usize,
    len: usize,
) -> anyhow::Result<()> {
    let mut bytes = vec![0u8; len];
    from.read(&*caller, from_at, &mut bytes)?;
    to.write(&mut *caller, to_at, &bytes)?;
    Ok(())
}

fn split(double: i64) -> (usize, usize) {
    let bits = double as u64;
    ((bits >> 32) as usize, (bits & 0xffff_ffff) as usize)
}

fn at(value: i32) -> usize {
    value as u32 as usize
}

/// Links the imports that pass guest pointers; returns whether `name` is one of them.
fn link_shim(
    linker: &mut Linker<Shims>,
    store: &mut Store<Shims>,
    provider: &Instance,
    provider_memory: Memory,
    name: &str,
) -> anyhow::Result<bool> {
    match name {
        "shopify_function_input_read_utf8_str" => {
            let addr: TypedFunc<i32, i32> = provider
                .get_typed_func(&mut *store, "_shopify_function_input_get_utf8_str_addr")?;
            linker.func_wrap(
                IMPORT_MODULE,
                name,
                move |mut caller: Caller<'_, Shims>, src: i32, out: i32, len: i32| {
                    metered(&mut caller, |mut caller| {
                        let from = addr.call(&mut caller, src)?;
                        let guest = guest(caller)?;
                        copy(caller, provider_memory, at(from), guest, at(out), at(len))
                    })
                },
            )?;
        }
        "shopify_function_input_get_obj_prop" => {
            let alloc: TypedFunc<i32, i32> =
                provider.get_typed_func(&mut *store, "_shopify_function_alloc")?;
            let get: TypedFunc<(i64, i32, i32), i64> =
                provider.get_typed_func(&mut *store, "_shopify_function_input_get_obj_prop")?;
            linker.func_wrap(
                IMPORT_MODULE,
                name,
                move |mut caller: Caller<'_, Shims>, scope: i64, ptr: i32, len: i32| {
                    metered(&mut caller, |mut caller| {
                        let dst = alloc.call(&mut caller, len)?;
                        let guest = guest(caller)?;
                        copy(caller, guest, at(ptr), provider_memory, at(dst), at(len))?;
                        get.call(&mut caller, (scope, dst, len))
                    })
                },
            )?;
        }
        "shopify_function_output_new_utf8_str" => {
            let new: TypedFunc<i32, i64> =
                provider.get_typed_func(&mut *store, "_shopify_function_output_new_utf8_str")?;
            linker.func_wrap(
                IMPORT_MODULE,
                name,
                move |mut caller: Caller<'_, Shims>, ptr: i32, len: i32| {
                    metered(&mut caller, |mut caller| {
                        let (result, dst) = split(new.call(&mut caller, len)?);
                        if result == 0 {
                            let guest = guest(caller)?;
                            copy(caller, guest, at(ptr), provider_memory, dst, at(len))?;
                        }
                        Ok(result as i32)
                    })
                },
            )?;
        }
        "shopify_function_intern_utf8_str" => {
            let intern: TypedFunc<i32, i64> =
                provider.get_typed_func(&mut *store, "_shopify_function_intern_utf8_str")?;
            linker.func_wrap(
                IMPORT_MODULE,
                name,
                move |mut caller: Caller<'_, Shims>, ptr: i32, len: i32| {
                    metered(&mut caller, |mut caller| {
                        let (id, dst) = split(intern.call(&mut caller, len)?);
                        let guest = guest(caller)?;
                        copy(caller, guest, at(ptr), provider_memory, dst, at(len))?;
                        Ok(id as i32)
                    })
                },
            )?;
        }
        "shopify_function_log_new_utf8_str" => {
            let log: TypedFunc<i32, i32> =
                provider.get_typed_func(&mut *store, "_shopify_function_log_new_utf8_str")?;
            linker.func_wrap(
                IMPORT_MODULE,
                name,
                move |mut caller: Caller<'_, Shims>, ptr: i32, len: i32| {
                    metered(&mut caller, |mut caller| {
                        let area = at(log.call(&mut caller, len)?);
                        let mut raw = [0u8; 20];
                        provider_memory.read(&caller, area, &mut raw)?;
                        let mut words = raw
                            .chunks_exact(4)
                            .map(|c| u32::from_le_bytes(c.try_into().unwrap_or([0; 4])) as usize);
                        let mut next = || words.next().unwrap_or(0);
                        let (source, dst1, len1, dst2, len2) =
                            (next(), next(), next(), next(), next());
                        let guest = guest(caller)?;
                        let start = at(ptr) + source;
                        copy(caller, guest, start, provider_memory, dst1, len1)?;
                        copy(caller, guest, start + len1, provider_memory, dst2, len2)
                    })
                },
            )?;
        }
        _ => return Ok(false),
    }
    Ok(true)
}
