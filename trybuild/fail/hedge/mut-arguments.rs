use resilience::hedge;

struct Client {
    sent: u32,
}

impl Client {
    #[hedge(delay = "50ms")]
    async fn send(&mut self, body: &mut Vec<u8>, mut retries: u32) -> Result<(), resilience::Error> {
        self.sent += 1;
        body.push(0);
        retries += 1;
        let _ = retries;
        Ok(())
    }
}

fn main() {}
