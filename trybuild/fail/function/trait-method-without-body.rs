use resilience::retry;

trait Api {
    #[retry]
    async fn get(&self) -> Result<(), resilience::Error>;
}

fn main() {}
