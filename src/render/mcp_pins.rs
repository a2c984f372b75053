//! The pin file `threat-analyzer mcp-pin` writes (the format is documented in
//! [`crate::analysis::mcp_surface`], which reads it back).
//!
//! Owns: writing the project's tool pins as that JSON document: its version, then one tool per
//! line, sorted by file and name, so the same project always gives the same bytes and a changed
//! description is a one-line change. Must never: do I/O. File and tool names are repository
//! text: [`crate::analysis::mcp_surface::pin_of`] passed them through
//! [`crate::text::for_machine`], and JSON escaping does the rest.

use crate::analysis::mcp_surface::{PIN_VERSION, Pin};

/// Renders `pins` (from [`crate::analysis::mcp_surface::pins`], sorted) as a pin file.
pub fn render(pins: &[Pin]) -> String {
    let mut out = format!("{{\n  \"version\": {PIN_VERSION},\n  \"tools\": [");
    for (i, pin) in pins.iter().enumerate() {
        out.push_str(if i == 0 { "\n    " } else { ",\n    " });
        out.push_str(&serde_json::to_string(pin).expect("plain structs serialise"));
    }
    out.push_str(if pins.is_empty() { "]\n}\n" } else { "\n  ]\n}\n" });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::mcp_surface::Pins;

    #[test]
    fn renders_one_pin_per_line_and_reads_back() {
        let pin = |file: &str, name: &str| Pin { file: file.into(), name: name.into(), sha256: "ab".into() };
        let text = render(&[pin("a.py", "x"), pin("b \"q\".ts", "y")]);
        assert_eq!(
            text,
            "{\n  \"version\": 1,\n  \"tools\": [\n    {\"file\":\"a.py\",\"name\":\"x\",\"sha256\":\"ab\"},\n    {\"file\":\"b \\\"q\\\".ts\",\"name\":\"y\",\"sha256\":\"ab\"}\n  ]\n}\n"
        );
        assert!(Pins::parse(&text).is_ok());
        assert_eq!(render(&[]), "{\n  \"version\": 1,\n  \"tools\": []\n}\n");
        assert!(Pins::parse(&render(&[])).is_ok());
        assert!(Pins::parse("{\"version\": 2, \"tools\": []}").unwrap_err().contains("version 2"));
        assert!(Pins::parse("[").is_err());
    }
}
