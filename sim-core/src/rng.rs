//! Random streams. Every agent owns a ChaCha8 stream: the run seed is the key
//! and the agent's id selects one of ChaCha's 2^64 independent streams, so no
//! two agents share numbers and none depends on another's draw count.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

#[derive(Debug, Clone, Copy)]
pub enum StreamId {
    /// The sequential phases (approval lags and denials).
    World,
    Ally(u32),
    Owner(u32),
}

impl StreamId {
    fn number(self) -> u64 {
        match self {
            StreamId::World => 0,
            StreamId::Ally(i) => (1 << 32) | i as u64,
            StreamId::Owner(i) => (2 << 32) | i as u64,
        }
    }
}

pub fn stream(seed: u64, id: StreamId) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(id.number());
    rng
}

/// A run seed derived from a base seed and indices (replicate, point...):
/// SplitMix64 over the parts, so nearby inputs give unrelated seeds.
pub fn derive_seed(base: u64, parts: &[u64]) -> u64 {
    let mut x = base;
    for &p in parts {
        x = splitmix64(x ^ splitmix64(p.wrapping_add(0x9E37_79B9_7F4A_7C15)));
    }
    x
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngCore;

    #[test]
    fn streams_differ_and_repeat() {
        let a1 = stream(7, StreamId::Ally(1)).next_u64();
        let a2 = stream(7, StreamId::Ally(2)).next_u64();
        let o1 = stream(7, StreamId::Owner(1)).next_u64();
        assert_ne!(a1, a2);
        assert_ne!(a1, o1);
        assert_eq!(a1, stream(7, StreamId::Ally(1)).next_u64());
        assert_ne!(derive_seed(1, &[0]), derive_seed(1, &[1]));
        assert_ne!(derive_seed(1, &[0, 1]), derive_seed(1, &[1, 0]));
    }
}
