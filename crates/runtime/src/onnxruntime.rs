//! `OrtEngine`: onnxruntime, loaded at run time from a shared library the operator
//! configures (`ort` with `load-dynamic`), behind the same `InferenceEngine` port.
//!
//! onnxruntime is loaded once per process (the `ort` crate keeps the library in a global):
//! a second engine naming another library is refused rather than silently served by the
//! first one.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use bascule_core::{
    DataType, EngineError, InferenceEngine, LoadedModel, Signature, Tensor, TensorData, TensorSpec,
};
use ort::environment::Environment;
use ort::session::Session;
use ort::value::{DynMapValueType, DynValue, TensorElementType, ValueType};

use crate::Error;

/// The library this process loaded and its one environment (onnxruntime allows one per
/// process), shared by every engine built on the same library.
static LOADED: Mutex<Option<(PathBuf, Environment)>> = Mutex::new(None);

/// How to build an [`OrtEngine`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrtConfig {
    /// Path to `libonnxruntime.so` (1.31 or newer).
    pub library: PathBuf,
    /// Threads per inference call (onnxruntime's intra-op threads); 1 keeps serving
    /// predictable under concurrent requests.
    pub intra_threads: usize,
}

impl OrtConfig {
    pub fn new(library: impl Into<PathBuf>) -> Self {
        OrtConfig {
            library: library.into(),
            intra_threads: 1,
        }
    }
}

/// Runs ONNX models with onnxruntime.
pub struct OrtEngine {
    environment: Environment,
    config: OrtConfig,
}

impl std::fmt::Debug for OrtEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrtEngine")
            .field("config", &self.config)
            .finish()
    }
}

/// The onnxruntime library path the environment names, if any: `BASCULE_ONNXRUNTIME_LIB`,
/// else `ORT_DYLIB_PATH`. Only the binary's configuration calls this.
pub fn onnxruntime_library_from_env() -> Option<PathBuf> {
    ["BASCULE_ONNXRUNTIME_LIB", "ORT_DYLIB_PATH"]
        .iter()
        .filter_map(std::env::var_os)
        .find(|value| !value.is_empty())
        .map(PathBuf::from)
}

impl OrtEngine {
    /// Loads the configured library, checking it exists and is a usable onnxruntime.
    pub fn new(config: OrtConfig) -> Result<Self, Error> {
        let refused = |reason: String| Error::OnnxRuntime {
            library: config.library.display().to_string(),
            reason,
        };
        let metadata = std::fs::metadata(&config.library)
            .map_err(|error| refused(format!("cannot read the library: {error}")))?;
        if !metadata.is_file() {
            return Err(refused("not a file".into()));
        }
        let library = std::path::absolute(&config.library)
            .map_err(|error| refused(format!("cannot resolve the path: {error}")))?;
        let environment = catch_unwind(AssertUnwindSafe(|| load(&library)))
            .unwrap_or_else(|_| Err("onnxruntime panicked while loading".into()))
            .map_err(refused)?;
        Ok(OrtEngine {
            environment,
            config,
        })
    }

    pub fn config(&self) -> &OrtConfig {
        &self.config
    }

    /// Loads a model as its concrete type.
    pub fn load_model(&self, onnx: &[u8]) -> Result<OrtModel, EngineError> {
        let invalid = |error: ort::Error| {
            EngineError::InvalidModel(format!("onnxruntime cannot load the model: {error}"))
        };
        let session = catch_unwind(AssertUnwindSafe(|| {
            Session::builder(&self.environment)
                .map_err(invalid)?
                .with_intra_threads(self.config.intra_threads.max(1))
                .map_err(|error| invalid(error.into()))?
                .with_inter_threads(1)
                .map_err(|error| invalid(error.into()))?
                .commit_from_memory(onnx)
                .map_err(invalid)
        }))
        .unwrap_or_else(|_| {
            Err(EngineError::InvalidModel(
                "onnxruntime panicked loading the model".into(),
            ))
        })?;
        let inputs = session
            .inputs()
            .iter()
            .map(|outlet| spec(outlet.name(), outlet.dtype()))
            .collect::<Result<Vec<_>, _>>()?;
        let outputs = session
            .outputs()
            .iter()
            .map(|outlet| spec(outlet.name(), outlet.dtype()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(OrtModel {
            session: Mutex::new(session),
            signature: Signature { inputs, outputs },
        })
    }
}

fn load(library: &Path) -> Result<Environment, String> {
    let mut loaded = LOADED
        .lock()
        .map_err(|_| "an earlier load of onnxruntime panicked".to_owned())?;
    if let Some((path, environment)) = loaded.as_ref() {
        if path == library {
            return Ok(environment.clone());
        }
        return Err(format!(
            "onnxruntime is already loaded from {} in this process; one library per process",
            path.display()
        ));
    }
    let environment = ort::init_from(library)
        .map_err(|error| error.to_string())?
        .with_name("bascule")
        .build()
        .map_err(|error| format!("cannot start onnxruntime: {error}"))?;
    *loaded = Some((library.to_path_buf(), environment.clone()));
    Ok(environment)
}

impl InferenceEngine for OrtEngine {
    fn name(&self) -> &'static str {
        "onnxruntime"
    }

    fn load(&self, onnx: &[u8]) -> Result<Arc<dyn LoadedModel>, EngineError> {
        Ok(Arc::new(self.load_model(onnx)?))
    }
}

/// A model loaded into onnxruntime. `ort` runs a session through `&mut`, so runs of one
/// model take turns; different models run in parallel.
pub struct OrtModel {
    session: Mutex<Session>,
    signature: Signature,
}

impl std::fmt::Debug for OrtModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrtModel")
            .field("signature", &self.signature)
            .finish()
    }
}

fn datatype(element: &TensorElementType) -> Option<DataType> {
    Some(match element {
        TensorElementType::Float32 => DataType::Fp32,
        TensorElementType::Float64 => DataType::Fp64,
        TensorElementType::Int64 => DataType::Int64,
        TensorElementType::Int32 => DataType::Int32,
        TensorElementType::Bool => DataType::Bool,
        TensorElementType::String => DataType::Bytes,
        _ => return None,
    })
}

/// A graph input or output as a tensor spec. A sequence of maps (ZipMap's output) is
/// returned as the `[N, n_classes]` matrix of its values.
fn spec(name: &str, dtype: &ValueType) -> Result<TensorSpec, EngineError> {
    let unsupported = || {
        EngineError::InvalidModel(format!(
            "'{name}' has type {dtype:?}, which Bascule's tensors cannot carry"
        ))
    };
    match dtype {
        ValueType::Tensor { ty, shape, .. } => Ok(TensorSpec {
            name: name.to_owned(),
            datatype: datatype(ty).ok_or_else(unsupported)?,
            shape: shape.iter().copied().collect(),
        }),
        ValueType::Sequence(inner) if matches!(**inner, ValueType::Map { .. }) => Ok(TensorSpec {
            name: name.to_owned(),
            datatype: DataType::Fp32,
            shape: vec![-1, -1],
        }),
        _ => Err(unsupported()),
    }
}

impl LoadedModel for OrtModel {
    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn run(&self, mut inputs: Vec<Tensor>) -> Result<Vec<Tensor>, EngineError> {
        if inputs.len() != self.signature.inputs.len() {
            return Err(EngineError::BadInput(format!(
                "the model takes {} input(s), got {}",
                self.signature.inputs.len(),
                inputs.len()
            )));
        }
        let mut values: Vec<(String, DynValue)> = Vec::with_capacity(inputs.len());
        for spec in &self.signature.inputs {
            let position = inputs
                .iter()
                .position(|tensor| tensor.name == spec.name)
                .ok_or_else(|| EngineError::BadInput(format!("missing input '{}'", spec.name)))?;
            let tensor = inputs.swap_remove(position);
            if tensor.data.datatype() != spec.datatype {
                return Err(EngineError::BadInput(format!(
                    "input '{}' must be {}, got {}",
                    spec.name,
                    spec.datatype,
                    tensor.data.datatype()
                )));
            }
            values.push((spec.name.clone(), to_ort(tensor)?));
        }
        let mut session = self
            .session
            .lock()
            .map_err(|_| EngineError::Failed("an earlier run panicked".into()))?;
        catch_unwind(AssertUnwindSafe(|| -> Result<Vec<Tensor>, EngineError> {
            let outputs = session
                .run(values)
                .map_err(|error| EngineError::Failed(format!("onnxruntime: {error}")))?;
            self.signature
                .outputs
                .iter()
                .map(|spec| {
                    let value = outputs.get(&spec.name).ok_or_else(|| {
                        EngineError::Failed(format!("onnxruntime returned no '{}'", spec.name))
                    })?;
                    from_ort(&spec.name, value)
                })
                .collect()
        }))
        .map_err(|_| EngineError::Failed("onnxruntime panicked running the model".into()))?
    }
}

fn to_ort(tensor: Tensor) -> Result<DynValue, EngineError> {
    let bad =
        |error: ort::Error| EngineError::BadInput(format!("input '{}': {error}", tensor.name));
    let shape = tensor.shape.clone();
    Ok(match &tensor.data {
        TensorData::Fp32(data) => ort::value::Tensor::from_array((shape, data.clone()))
            .map_err(bad)?
            .into_dyn(),
        TensorData::Fp64(data) => ort::value::Tensor::from_array((shape, data.clone()))
            .map_err(bad)?
            .into_dyn(),
        TensorData::Int64(data) => ort::value::Tensor::from_array((shape, data.clone()))
            .map_err(bad)?
            .into_dyn(),
        TensorData::Int32(data) => ort::value::Tensor::from_array((shape, data.clone()))
            .map_err(bad)?
            .into_dyn(),
        TensorData::Bool(data) => ort::value::Tensor::from_array((shape, data.clone()))
            .map_err(bad)?
            .into_dyn(),
        TensorData::Bytes(data) => ort::value::Tensor::from_string_array((shape, data.as_slice()))
            .map_err(bad)?
            .into_dyn(),
    })
}

fn from_ort(name: &str, value: &DynValue) -> Result<Tensor, EngineError> {
    let failed = |error: ort::Error| EngineError::Failed(format!("output '{name}': {error}"));
    let dims = |shape: &ort::value::Shape| -> Vec<usize> {
        shape
            .iter()
            .map(|&dim| usize::try_from(dim).unwrap_or(0))
            .collect()
    };
    let (shape, data) = match value.dtype() {
        ValueType::Tensor { ty, .. } => match ty {
            TensorElementType::Float32 => {
                let (shape, data) = value.try_extract_tensor::<f32>().map_err(failed)?;
                (dims(shape), TensorData::Fp32(data.to_vec()))
            }
            TensorElementType::Float64 => {
                let (shape, data) = value.try_extract_tensor::<f64>().map_err(failed)?;
                (dims(shape), TensorData::Fp64(data.to_vec()))
            }
            TensorElementType::Int64 => {
                let (shape, data) = value.try_extract_tensor::<i64>().map_err(failed)?;
                (dims(shape), TensorData::Int64(data.to_vec()))
            }
            TensorElementType::Int32 => {
                let (shape, data) = value.try_extract_tensor::<i32>().map_err(failed)?;
                (dims(shape), TensorData::Int32(data.to_vec()))
            }
            TensorElementType::Bool => {
                let (shape, data) = value.try_extract_tensor::<bool>().map_err(failed)?;
                (dims(shape), TensorData::Bool(data.to_vec()))
            }
            TensorElementType::String => {
                let (shape, data) = value.try_extract_strings().map_err(failed)?;
                (dims(shape), TensorData::Bytes(data))
            }
            other => {
                return Err(EngineError::Failed(format!(
                    "output '{name}' has element type {other:?}, which Bascule's tensors cannot carry"
                )));
            }
        },
        ValueType::Sequence(_) => zipmap_matrix(name, value)?,
        other => {
            return Err(EngineError::Failed(format!(
                "output '{name}' has type {other:?}, which Bascule's tensors cannot carry"
            )));
        }
    };
    Tensor::new(name, shape, data).map_err(EngineError::Failed)
}

/// A sequence of maps (class → probability) as the `[N, n_classes]` matrix of its values,
/// columns in key order (onnxruntime's maps are ordered by key).
fn zipmap_matrix(name: &str, value: &DynValue) -> Result<(Vec<usize>, TensorData), EngineError> {
    let failed = |error: ort::Error| EngineError::Failed(format!("output '{name}': {error}"));
    let maps = value
        .try_extract_sequence::<DynMapValueType>()
        .map_err(failed)?;
    let mut data = Vec::new();
    let mut width = None;
    for map in &maps {
        let row: Vec<f32> = match map.dtype() {
            ValueType::Map {
                key: TensorElementType::String,
                ..
            } => {
                let mut pairs = map
                    .try_extract_key_values::<String, f32>()
                    .map_err(failed)?;
                pairs.sort_by(|a, b| a.0.cmp(&b.0));
                pairs.into_iter().map(|(_, value)| value).collect()
            }
            _ => {
                let mut pairs = map.try_extract_key_values::<i64, f32>().map_err(failed)?;
                pairs.sort_by_key(|pair| pair.0);
                pairs.into_iter().map(|(_, value)| value).collect()
            }
        };
        if *width.get_or_insert(row.len()) != row.len() {
            return Err(EngineError::Failed(format!(
                "output '{name}': maps of different sizes"
            )));
        }
        data.extend(row);
    }
    Ok((vec![maps.len(), width.unwrap_or(0)], TensorData::Fp32(data)))
}
