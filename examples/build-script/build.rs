//! Generates the API's code from openapi.yaml into OUT_DIR on every build
//! where the spec changed.

fn main() {
    if let Err(e) = apigen::build::Builder::new("openapi.yaml").generate() {
        // The spec's errors, each with file:line:col and a help line.
        eprintln!("{e}");
        std::process::exit(1);
    }
}
