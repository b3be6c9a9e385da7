#[retry(max_attempts = 2)]
#[hedge(delay = "50ms")]
#[retry(max_attempts = 3)]
async fn fetch(key: String, shard: u32) -> Result<Value, FetchError> {
    store(shard).get(&key).await
}
