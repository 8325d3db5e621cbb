//! Exact integer splits: what makes the demo's figures come out exact.
//!
//! `apportion` divides a national total among regions (largest remainder,
//! within bounds); `Deal` and `Split` hand out exactly k of n flags, or exact
//! counts of several values, to items met one by one in a stream, each item
//! equally likely to get one.

use super::rng::Rng;

/// Splits `total` in proportion to `weights` (largest remainder), each part
/// within `lo[i]..=hi[i]`. The bounds must allow it: Σ lo ≤ total ≤ Σ hi.
pub fn apportion_bounded(total: u64, weights: &[f64], lo: &[u64], hi: &[u64]) -> Vec<u64> {
    let n = weights.len();
    assert!(lo.len() == n && hi.len() == n);
    let floor: u64 = lo.iter().sum();
    let ceiling: u64 = hi.iter().sum();
    assert!(floor <= total && total <= ceiling, "cannot split {total} within bounds {floor}..={ceiling}");
    let mut out = lo.to_vec();
    let mut rest = total - floor;
    while rest > 0 {
        let open: Vec<usize> = (0..n).filter(|&i| out[i] < hi[i]).collect();
        let weight = |i: usize| if weights[i] > 0.0 { weights[i] } else { 0.0 };
        let mut sum: f64 = open.iter().map(|&i| weight(i)).sum();
        let uniform = sum <= 0.0;
        if uniform {
            sum = open.len() as f64;
        }
        let share = |i: usize| rest as f64 * if uniform { 1.0 } else { weight(i) } / sum;
        let mut given = 0;
        for &i in &open {
            let add = (share(i).floor() as u64).min(hi[i] - out[i]);
            out[i] += add;
            given += add;
        }
        if given == 0 {
            // Less than one each: the largest remainders get one.
            let mut order = open.clone();
            order.sort_by(|&a, &b| share(b).partial_cmp(&share(a)).expect("finite").then(a.cmp(&b)));
            for i in order.into_iter().take(rest as usize) {
                out[i] += 1;
                given += 1;
            }
        }
        rest -= given;
    }
    out
}

/// Splits `total` in proportion to `weights`, without bounds.
pub fn apportion(total: u64, weights: &[f64]) -> Vec<u64> {
    let n = weights.len();
    apportion_bounded(total, weights, &vec![0; n], &vec![u64::MAX / (n as u64 + 1); n])
}

/// `value` scaled and rounded; monotone, so a part never outgrows its whole.
pub fn scaled(value: u64, scale: f64) -> u64 {
    (value as f64 * scale).round() as u64
}

/// Exactly `k` of the next `n` items drawn get the flag.
#[derive(Debug, Clone, Copy)]
pub struct Deal {
    k: u64,
    n: u64,
}

impl Deal {
    /// `k` is capped at `n` (a scaled plan may round one above the other).
    pub fn new(k: u64, n: u64) -> Deal {
        Deal { k: k.min(n), n }
    }

    pub fn draw(&mut self, rng: &mut Rng) -> bool {
        if self.n == 0 {
            return false;
        }
        let take = rng.below(self.n) < self.k;
        self.n -= 1;
        self.k -= u64::from(take);
        take
    }
}

/// Exact counts of several values among the next Σ counts items drawn.
#[derive(Debug, Clone)]
pub struct Split {
    counts: Vec<u64>,
    left: u64,
}

impl Split {
    pub fn new(counts: &[u64]) -> Split {
        Split { counts: counts.to_vec(), left: counts.iter().sum() }
    }

    /// Items still to be drawn.
    pub fn remaining(&self) -> u64 {
        self.left
    }

    /// The index of the value drawn; past the planned items, the last value.
    pub fn draw(&mut self, rng: &mut Rng) -> usize {
        if self.left == 0 {
            return self.counts.len() - 1;
        }
        let mut r = rng.below(self.left);
        self.left -= 1;
        for (i, c) in self.counts.iter_mut().enumerate() {
            if r < *c {
                *c -= 1;
                return i;
            }
            r -= *c;
        }
        unreachable!("counts add up to left")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apportion_is_exact_and_bounded() {
        let parts = apportion_bounded(100, &[1.0, 1.0, 1.0], &[0, 0, 0], &[50, 50, 10]);
        assert_eq!(parts.iter().sum::<u64>(), 100);
        assert_eq!(parts[2], 10);
        assert_eq!(apportion(10, &[1.0, 2.0, 2.0]), [2, 4, 4]);
        assert_eq!(apportion(1, &[1.0, 3.0]), [0, 1]);
        assert_eq!(apportion(3, &[0.0, 0.0]).iter().sum::<u64>(), 3);
    }

    #[test]
    fn deal_and_split_hand_out_exact_counts() {
        let mut rng = Rng::new(1);
        let mut deal = Deal::new(37, 100);
        assert_eq!((0..100).filter(|_| deal.draw(&mut rng)).count(), 37);
        let mut split = Split::new(&[5, 0, 7]);
        let mut seen = [0; 3];
        for _ in 0..12 {
            seen[split.draw(&mut rng)] += 1;
        }
        assert_eq!(seen, [5, 0, 7]);
    }
}
