//! What the `python_function` flavor runs in: `requirements.txt`, `python_env.yaml` and
//! `conda.yaml`, as MLflow writes them for an ONNX model (`mlflow`, `onnx`, `onnxruntime`).

use serde::Serialize;
use tract_onnx::prelude::Framework;

use super::MLFLOW_VERSION;
use crate::Error;

/// The pip requirements: MLflow at the release whose layout is written, an `onnx` that
/// reads the model's opset, and `onnxruntime`, which the flavor loads the model with.
pub(crate) fn requirements(onnx_version: Option<&str>) -> Vec<String> {
    let onnx = match onnx_version {
        Some(version) => format!("onnx>={version}"),
        None => "onnx".to_owned(),
    };
    vec![
        format!("mlflow=={MLFLOW_VERSION}"),
        onnx,
        "onnxruntime".to_owned(),
    ]
}

pub(crate) fn conda_yaml(python_version: &str, requirements: &[String]) -> Result<Vec<u8>, Error> {
    #[derive(Serialize)]
    #[serde(untagged)]
    enum Dependency<'a> {
        Package(String),
        Pip { pip: &'a [String] },
    }
    #[derive(Serialize)]
    struct CondaEnv<'a> {
        channels: [&'static str; 1],
        dependencies: Vec<Dependency<'a>>,
        name: &'static str,
    }
    let env = CondaEnv {
        channels: ["conda-forge"],
        dependencies: vec![
            Dependency::Package(format!("python={python_version}")),
            Dependency::Package("pip".to_owned()),
            Dependency::Pip { pip: requirements },
        ],
        name: "mlflow-env",
    };
    yaml_bytes(&env)
}

pub(crate) fn python_env_yaml(python_version: &str) -> Result<Vec<u8>, Error> {
    // `_PythonEnv.to_yaml` writes its keys in this order, not sorted.
    #[derive(Serialize)]
    struct PythonEnv<'a> {
        python: &'a str,
        build_dependencies: [&'static str; 3],
        dependencies: [&'static str; 1],
    }
    yaml_bytes(&PythonEnv {
        python: python_version,
        build_dependencies: ["pip", "setuptools", "wheel"],
        dependencies: ["-r requirements.txt"],
    })
}

fn yaml_bytes<T: Serialize>(value: &T) -> Result<Vec<u8>, Error> {
    serde_yaml::to_string(value)
        .map(String::into_bytes)
        .map_err(|error| Error::InvalidMlmodel(format!("cannot write YAML: {error}")))
}

/// The first `onnx` release that reads the model's `ai.onnx` opset (MLflow records the
/// installed `onnx` version; Bascule has none, so it records the oldest that will do).
pub(crate) fn minimum_onnx_release(onnx: &[u8]) -> Result<Option<&'static str>, Error> {
    const RELEASES: [(i64, &str); 22] = [
        (7, "1.2"),
        (8, "1.3"),
        (9, "1.4.1"),
        (10, "1.5.0"),
        (11, "1.6.0"),
        (12, "1.7.0"),
        (13, "1.8.0"),
        (14, "1.9.0"),
        (15, "1.10.0"),
        (16, "1.11.0"),
        (17, "1.12.0"),
        (18, "1.13.0"),
        (19, "1.14.0"),
        (20, "1.15.0"),
        (21, "1.16.0"),
        (22, "1.17.0"),
        (23, "1.18.0"),
        (24, "1.19.0"),
        (25, "1.20.0"),
        (26, "1.21.0"),
        (27, "1.22.0"),
        (28, "1.23.0"),
    ];
    let mut reader = onnx;
    let model = tract_onnx::onnx()
        .proto_model_for_read(&mut reader)
        .map_err(|error| Error::InvalidOnnx(format!("{error:#}")))?;
    if model.graph.is_none() {
        return Err(Error::InvalidOnnx("the model has no graph".into()));
    }
    let opset = model
        .opset_import
        .iter()
        .find(|import| import.domain.is_empty() || import.domain == "ai.onnx")
        .map(|import| import.version);
    Ok(opset.and_then(|opset| {
        RELEASES
            .iter()
            .find(|(release_opset, _)| *release_opset == opset)
            .map(|(_, release)| *release)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_not_onnx() {
        assert!(matches!(
            minimum_onnx_release(b"\xff\xff\xff"),
            Err(Error::InvalidOnnx(_))
        ));
        assert!(matches!(
            minimum_onnx_release(b""),
            Err(Error::InvalidOnnx(_))
        ));
    }

    #[test]
    fn the_environment_files_name_python_and_the_requirements() {
        let requirements = requirements(Some("1.13.0"));
        assert_eq!(
            requirements,
            ["mlflow==3.17.2", "onnx>=1.13.0", "onnxruntime"]
        );
        assert_eq!(
            String::from_utf8_lossy(&python_env_yaml("3.11").expect("writes")),
            "python: '3.11'\nbuild_dependencies:\n- pip\n- setuptools\n- wheel\ndependencies:\n- -r requirements.txt\n"
        );
        assert_eq!(
            String::from_utf8_lossy(&conda_yaml("3.11", &requirements).expect("writes")),
            "channels:\n- conda-forge\ndependencies:\n- python=3.11\n- pip\n- pip:\n  - mlflow==3.17.2\n  - onnx>=1.13.0\n  - onnxruntime\nname: mlflow-env\n"
        );
        assert_eq!(super::requirements(None)[1], "onnx");
    }
}
