//! Secret scans that never print the secret they look for: named places (files, outputs,
//! a saved plan's zip entries) searched for named secrets, and redaction of what a failing
//! security test may print.

use std::path::Path;

/// Every entry of a zip archive (a saved plan file), uncompressed and concatenated, read
/// with Python's zipfile (Python is already a build requirement: ensure-tools uses it).
pub fn unzip_all(path: &Path) -> Vec<u8> {
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nfor n in z.namelist():\n    sys.stdout.buffer.write(n.encode() + b'\\n' + z.read(n) + b'\\n')",
        ])
        .arg(path)
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "cannot read {} as a zip: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Named places to search and named secrets to look for. Failures name the secret and the
/// place, never the secret's value.
pub struct LeakCheck {
    places: Vec<(String, Vec<u8>)>,
}

impl LeakCheck {
    pub fn new() -> Self {
        Self { places: Vec::new() }
    }

    pub fn add(&mut self, place: impl Into<String>, bytes: impl Into<Vec<u8>>) {
        self.places.push((place.into(), bytes.into()));
    }

    pub fn add_file(&mut self, place: &str, path: &Path) {
        let bytes = std::fs::read(path)
            .unwrap_or_else(|e| panic!("{place}: cannot read {}: {e}", path.display()));
        self.add(place, bytes);
    }

    /// Every file under `dir` (recursively), except the directories named in `skip`.
    pub fn add_dir(&mut self, place: &str, dir: &Path, skip: &[&str]) {
        let entries = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{place}: cannot list {}: {e}", dir.display()));
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                if !skip.contains(&name.as_str()) {
                    self.add_dir(&format!("{place}/{name}"), &path, skip);
                }
            } else if kind.is_file() {
                self.add_file(&format!("{place}/{name}"), &path);
            }
        }
    }

    /// The places that hold `value` (a positive control: the search does find things).
    pub fn found_in(&self, value: &str) -> Vec<String> {
        self.places
            .iter()
            .filter(|(_, b)| contains(b, value.as_bytes()))
            .map(|(p, _)| p.clone())
            .collect()
    }

    /// How many places are searched.
    pub fn places(&self) -> usize {
        self.places.len()
    }

    /// Panics naming each (secret name, place) where a secret was found.
    pub fn assert_absent(&self, secrets: &[(&str, &str)]) {
        let mut found = Vec::new();
        for (name, value) in secrets {
            assert!(value.len() >= 8, "{name} is too short to search for");
            for (place, bytes) in &self.places {
                if contains(bytes, value.as_bytes()) {
                    found.push(format!("{name} in {place}"));
                }
            }
        }
        assert!(found.is_empty(), "secrets leaked: {}", found.join("; "));
    }
}

impl Default for LeakCheck {
    fn default() -> Self {
        Self::new()
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

/// `text` with every secret replaced by `<its name>` and every run of 64 hex digits (the
/// shape of a signature) by `<64 hex digits>`: what a failing security test may print.
pub fn redact(text: &str, secrets: &[(&str, &str)]) -> String {
    let mut out = text.to_string();
    for (name, value) in secrets {
        out = out.replace(value, &format!("<{name}>"));
    }
    let mut result = String::with_capacity(out.len());
    let mut run = String::new();
    for c in out.chars() {
        if c.is_ascii_hexdigit() {
            run.push(c);
            continue;
        }
        flush_hex(&mut result, &mut run);
        result.push(c);
    }
    flush_hex(&mut result, &mut run);
    result
}

fn flush_hex(result: &mut String, run: &mut String) {
    if run.len() >= 64 {
        result.push_str("<64 hex digits>");
    } else {
        result.push_str(run);
    }
    run.clear();
}
