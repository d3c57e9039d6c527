//! Deployments from the command line against a real server.

use crate::{cli, fails, fixture, ok, path, start_server};

#[test]
fn a_prototype_is_refused_with_its_stage() {
    let server = start_server();
    let listed = ok(cli(&server, &["deployments"]));
    assert!(listed.contains("nothing deployed"), "{listed}");
    assert!(listed.contains("0 shed"), "{listed}");
    ok(cli(
        &server,
        &[
            "models",
            "register",
            "bc",
            path(&fixture("logistic/model.onnx")),
        ],
    ));
    let err = fails(cli(&server, &["deploy", "bc", "1"]));
    assert!(
        err.contains("Prototype") && err.contains("409") && err.contains("bascule validate"),
        "{err}"
    );
    let err = fails(cli(&server, &["deploy", "bc", "1", "--canary", "120"]));
    assert!(err.contains("1 to 99"), "{err}");
    let err = fails(cli(&server, &["rollback", "bc"]));
    assert!(
        err.contains("no canary and no previous live version"),
        "{err}"
    );
    let err = fails(cli(&server, &["undeploy", "bc"]));
    assert!(err.contains("not deployed") && err.contains("404"), "{err}");
    let events = ok(cli(&server, &["models", "events", "bc"]));
    assert!(!events.contains("Deployed"), "{events}");
}
