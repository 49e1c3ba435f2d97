//! Times one sign and one verify of an access token with each algorithm
//! authql offers, for `bench/signing.sh`: the keys come from authql's own key
//! generation, the tokens from jsonwebtoken as authql uses it. Prints one line
//! per algorithm: `ALG sign_us verify_us` (medians of 2 000 runs each, one
//! thread).

use std::time::Instant;

use authql::auth::keys::material;
use authql::config::SigningAlgorithm;
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};

fn median_micros(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn main() -> anyhow::Result<()> {
    const RUNS: usize = 2_000;
    let now = chrono::Utc::now().timestamp();
    let claims = serde_json::json!({
        "iss": "authql", "aud": "authql", "sub": uuid::Uuid::new_v4(), "iat": now, "nbf": now,
        "exp": now + 900, "jti": uuid::Uuid::new_v4(), "sid": uuid::Uuid::new_v4(),
        "xtype": "auth", "roles": ["user"],
    });
    for algorithm in [
        SigningAlgorithm::Hs256,
        SigningAlgorithm::EdDsa,
        SigningAlgorithm::Es256,
        SigningAlgorithm::Rs256,
    ] {
        let (encoding, decoding, kid): (EncodingKey, DecodingKey, String) =
            if algorithm == SigningAlgorithm::Hs256 {
                let secret = [7u8; 48];
                (
                    EncodingKey::from_secret(&secret),
                    DecodingKey::from_secret(&secret),
                    "hs256".into(),
                )
            } else {
                let pair = material::generate(algorithm)?;
                (
                    material::encoding_key(algorithm, &pair.private_der),
                    DecodingKey::from_jwk(&pair.public_jwk)?,
                    pair.kid,
                )
            };
        let alg = material::jose(algorithm);
        let mut header = Header::new(alg);
        header.typ = Some("at+jwt".into());
        header.kid = Some(kid);
        let mut validation = Validation::new(alg);
        validation.set_issuer(&["authql"]);
        validation.set_audience(&["authql"]);

        let token = jsonwebtoken::encode(&header, &claims, &encoding)?;
        let sign = (0..RUNS)
            .map(|_| {
                let start = Instant::now();
                std::hint::black_box(jsonwebtoken::encode(&header, &claims, &encoding).ok());
                start.elapsed().as_secs_f64() * 1e6
            })
            .collect();
        let verify = (0..RUNS)
            .map(|_| {
                let start = Instant::now();
                std::hint::black_box(
                    jsonwebtoken::decode::<serde_json::Value>(&token, &decoding, &validation)
                        .expect("verifies"),
                );
                start.elapsed().as_secs_f64() * 1e6
            })
            .collect();
        println!(
            "{} {:.1} {:.1}",
            algorithm.as_str(),
            median_micros(sign),
            median_micros(verify)
        );
    }
    Ok(())
}
