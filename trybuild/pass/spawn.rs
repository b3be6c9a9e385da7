use resilience::{bulkhead, circuit_breaker, retry, timeout};

pub struct Client {
    hits: u32,
}

impl Client {
    #[circuit_breaker]
    #[retry]
    #[timeout("1s")]
    #[bulkhead]
    pub async fn call(&mut self, body: Vec<u8>) -> Result<usize, resilience::Error> {
        self.hits += 1;
        tokio::task::yield_now().await;
        Ok(body.len())
    }
}

fn assert_send<F: std::future::Future + Send + 'static>(_: F) {}

#[tokio::main]
async fn main() {
    assert_send(async {
        let mut client = Client { hits: 0 };
        client.call(vec![1]).await
    });
    let spawned = tokio::spawn(async {
        let mut client = Client { hits: 0 };
        client.call(vec![1]).await
    });
    assert_eq!(spawned.await.unwrap().unwrap(), 1);
}
