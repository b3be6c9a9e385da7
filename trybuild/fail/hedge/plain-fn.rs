use resilience::hedge;

#[hedge(delay = "100ms", max_attempts = 2)]
fn search(query: &str) -> Result<usize, resilience::Error> {
    Ok(query.len())
}

fn main() {}
