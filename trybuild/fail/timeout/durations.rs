// Each malformed duration says what is wrong and names the accepted units.
use resilience::timeout;

#[timeout("-1s")]
async fn negative() -> Result<(), resilience::Error> {
    Ok(())
}

#[timeout(-1)]
async fn negative_number() -> Result<(), resilience::Error> {
    Ok(())
}

#[timeout("1 sec")]
async fn sec() -> Result<(), resilience::Error> {
    Ok(())
}

#[timeout("100 millis")]
async fn millis() -> Result<(), resilience::Error> {
    Ok(())
}

#[timeout("1m30")]
async fn missing_unit() -> Result<(), resilience::Error> {
    Ok(())
}

#[timeout(5parsecs)]
async fn unquoted_unknown_unit() -> Result<(), resilience::Error> {
    Ok(())
}

#[timeout("99999999999999999999h")]
async fn too_large() -> Result<(), resilience::Error> {
    Ok(())
}

fn main() {}
