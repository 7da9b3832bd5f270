//! The plan: every (variant, repetition) pair in the order it runs. Blocks of one run per
//! variant, so that machine drift over time hits every variant alike.

pub mod capacity;

use rand::SeedableRng as _;
use rand::seq::SliceRandom as _;

use crate::scenario::Order;

/// One run of the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlannedRun {
    /// Index into the scenario's variants.
    pub variant: usize,
    /// 1-based repetition number.
    pub repetition: u32,
}

/// Orders `variants` x `repetitions` runs: `interleaved` is A B C, A B C, ...; `randomized`
/// shuffles each block with `seed` (reproducible).
pub fn plan(variants: usize, repetitions: u32, order: Order, seed: u64) -> Vec<PlannedRun> {
    blocks(variants, repetitions, order, seed, false)
}

/// Like [`plan`] for an A/B of two builds, whose variants come in adjacent pairs (base,
/// candidate): interleaved, each pair swaps in every other block (base first, then candidate
/// first), so that neither build always runs right after the other build's run.
pub fn paired(variants: usize, repetitions: u32, order: Order, seed: u64) -> Vec<PlannedRun> {
    blocks(variants, repetitions, order, seed, true)
}

fn blocks(
    variants: usize,
    repetitions: u32,
    order: Order,
    seed: u64,
    paired: bool,
) -> Vec<PlannedRun> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut runs = Vec::with_capacity(variants * repetitions as usize);
    for repetition in 1..=repetitions {
        let mut block: Vec<usize> = (0..variants).collect();
        if order == Order::Randomized {
            block.shuffle(&mut rng);
        } else if paired && repetition % 2 == 0 {
            for pair in block.chunks_exact_mut(2) {
                pair.swap(0, 1);
            }
        }
        runs.extend(block.into_iter().map(|variant| PlannedRun {
            variant,
            repetition,
        }));
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interleaved_blocks() {
        let p = plan(3, 2, Order::Interleaved, 0);
        let v: Vec<_> = p.iter().map(|r| (r.variant, r.repetition)).collect();
        assert_eq!(v, [(0, 1), (1, 1), (2, 1), (0, 2), (1, 2), (2, 2)]);
    }

    #[test]
    fn an_ab_swaps_its_pairs_every_other_block() {
        let order: Vec<usize> = paired(4, 3, Order::Interleaved, 0)
            .iter()
            .map(|r| r.variant)
            .collect();
        assert_eq!(order, [0, 1, 2, 3, 1, 0, 3, 2, 0, 1, 2, 3]);
    }

    #[test]
    fn randomized_blocks_hold_each_variant_once_and_are_reproducible() {
        let a = plan(5, 4, Order::Randomized, 7);
        assert_eq!(a, plan(5, 4, Order::Randomized, 7));
        for block in a.chunks(5) {
            let mut vs: Vec<_> = block.iter().map(|r| r.variant).collect();
            vs.sort_unstable();
            assert_eq!(vs, [0, 1, 2, 3, 4]);
            assert!(block.iter().all(|r| r.repetition == block[0].repetition));
        }
        assert_ne!(a, plan(5, 4, Order::Interleaved, 7), "shuffled");
    }
}
