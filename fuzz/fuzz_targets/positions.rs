// Shared by the config targets (`include!`d: each target is its own crate).

/// Every diagnostic names the file and, when it has a position, a line of
/// the text and a column at most one past that line's last character.
fn check_positions(text: &str, errors: &liveops_config::ConfigErrors) {
    assert!(!errors.0.is_empty(), "an error without a diagnostic");
    let lines: Vec<&str> = text.split('\n').collect();
    for d in &errors.0 {
        assert!(!d.file.is_empty() && !d.message.is_empty(), "{d:?}");
        if let Some((line, col)) = d.position {
            assert!(
                line >= 1 && line <= lines.len(),
                "{d} outside {} lines",
                lines.len()
            );
            let width = lines[line - 1].chars().count();
            assert!(
                col >= 1 && col <= width + 1,
                "{d} past column {}",
                width + 1
            );
        }
    }
}
