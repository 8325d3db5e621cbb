//! A small deterministic generator (SplitMix64): the same seed gives the same
//! snapshot on every platform and every version of reestr, which a crate's
//! "standard" RNG does not promise.

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5EED_0F2E_E57A)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// A whole number near `mean` (±30 %), at least 1.
    pub fn around(&mut self, mean: f64) -> u64 {
        ((mean * (0.7 + 0.6 * self.unit())).round() as u64).max(1)
    }

    /// One of the values by weight (weights sum to about 1).
    pub fn pick<T: Copy>(&mut self, options: &[(T, f64)]) -> T {
        let mut u = self.unit();
        for (value, weight) in options {
            if u < *weight {
                return *value;
            }
            u -= weight;
        }
        options[options.len() - 1].0
    }
}
