//! Speed-adjusted CPU: the target's CPU per request corrected for how fast the machine ran.
//!
//! On a shared machine the target's CPU per request and the load generator's drift together
//! (other tenants, frequency): across repetitions of one variant, a run whose generator needed
//! 20% more CPU per request usually shows a target that needed about 15% more. The generator
//! does the same work per request in every variant, so its CPU is a speed gauge. The fit is an
//! analysis of covariance on logarithms, pooled within variants (so the variants' real
//! differences do not enter it):
//!
//! `ln target = variant's level + beta * ln generator`
//!
//! and each run's CPU is carried to a common reference speed:
//! `adjusted = target * (reference / generator) ^ beta`. Measured beta on the development VM was
//! 0.62 to 0.82; dividing by the generator (beta = 1) over-corrects.

/// The fitted relation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpeedModel {
    /// Elasticity of target CPU to generator CPU.
    pub beta: f64,
    /// The reference generator CPU per request, µs (geometric mean over the runs fitted, or a
    /// given one).
    pub reference_us: f64,
    /// Runs in the fit.
    pub runs: usize,
}

/// One run: (generator µs per request, target µs per request).
pub type Reading = (f64, f64);

/// Fewest runs, and fewest degrees of freedom within variants, for a fit.
const MIN_RUNS: usize = 4;

/// Fits `beta` over `groups` (one per variant and file; a run's readings must both be > 0).
/// The reference is the geometric mean of all generator readings unless `reference_us` is
/// given. `None` when the groups do not vary within themselves enough to fit.
pub fn fit(groups: &[Vec<Reading>], reference_us: Option<f64>) -> Option<SpeedModel> {
    let logs: Vec<Vec<(f64, f64)>> = groups
        .iter()
        .map(|g| {
            g.iter()
                .filter(|(gen_us, t)| *gen_us > 0.0 && *t > 0.0)
                .map(|(gen_us, t)| (gen_us.ln(), t.ln()))
                .collect()
        })
        .collect();
    let runs: usize = logs.iter().map(Vec::len).sum();
    let within: usize = logs.iter().map(|g| g.len().saturating_sub(1)).sum();
    if runs < MIN_RUNS || within < MIN_RUNS - 1 {
        return None;
    }
    let (mut sxx, mut sxy) = (0.0, 0.0);
    for g in logs.iter().filter(|g| !g.is_empty()) {
        let n = g.len() as f64;
        let mx = g.iter().map(|p| p.0).sum::<f64>() / n;
        let my = g.iter().map(|p| p.1).sum::<f64>() / n;
        for (x, y) in g {
            sxx += (x - mx).powi(2);
            sxy += (x - mx) * (y - my);
        }
    }
    if sxx <= 1e-12 {
        return None;
    }
    // A negative or runaway elasticity is noise, not physics: keep it within [0, 1.5].
    let beta = (sxy / sxx).clamp(0.0, 1.5);
    let reference_us = reference_us
        .unwrap_or_else(|| (logs.iter().flatten().map(|p| p.0).sum::<f64>() / runs as f64).exp());
    Some(SpeedModel {
        beta,
        reference_us,
        runs,
    })
}

impl SpeedModel {
    /// The target's CPU per request at the reference speed.
    pub fn adjust(&self, (gen_us, target_us): Reading) -> Option<f64> {
        (gen_us > 0.0 && target_us > 0.0)
            .then(|| target_us * (self.reference_us / gen_us).powf(self.beta))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs whose target CPU follows `level * gen^0.75` exactly.
    fn group(level: f64, gens: &[f64]) -> Vec<Reading> {
        gens.iter().map(|&g| (g, level * g.powf(0.75))).collect()
    }

    #[test]
    fn recovers_the_elasticity_and_removes_the_drift() {
        let a = group(20.0, &[130.0, 150.0, 190.0, 250.0]);
        let b = group(24.0, &[140.0, 160.0, 210.0]);
        let m = fit(&[a.clone(), b.clone()], None).unwrap();
        assert!((m.beta - 0.75).abs() < 1e-9, "{m:?}");
        assert_eq!(m.runs, 7);
        // Adjusted, every run of a variant gives the same figure, and the variants keep
        // their real 20% difference.
        let adj = |r: &[Reading]| -> Vec<f64> { r.iter().map(|&x| m.adjust(x).unwrap()).collect() };
        let (aa, bb) = (adj(&a), adj(&b));
        assert!(aa.iter().all(|v| (v - aa[0]).abs() < 1e-6));
        assert!(bb.iter().all(|v| (v - bb[0]).abs() < 1e-6));
        assert!((bb[0] / aa[0] - 1.2).abs() < 1e-9);
    }

    #[test]
    fn a_given_reference_is_kept() {
        let a = group(20.0, &[130.0, 150.0, 190.0, 250.0]);
        let m = fit(&[a], Some(100.0)).unwrap();
        assert!((m.reference_us - 100.0).abs() < 1e-12);
        assert!((m.adjust((100.0, 50.0)).unwrap() - 50.0).abs() < 1e-12);
    }

    #[test]
    fn no_fit_without_variation_within_variants() {
        // One run per variant: nothing varies within a variant.
        let one = |g: f64| vec![(g, 3.0 * g)];
        assert!(fit(&[one(100.0), one(150.0), one(200.0), one(250.0)], None).is_none());
        assert!(fit(&[vec![(100.0, 300.0); 5]], None).is_none());
        assert!(fit(&[], None).is_none());
        let m = fit(&[group(1.0, &[1.0, 2.0, 3.0, 4.0])], None).unwrap();
        assert_eq!(m.adjust((0.0, 10.0)), None);
    }

    #[test]
    fn elasticity_is_bounded() {
        let wild: Vec<Reading> = [
            (100.0, 10.0),
            (101.0, 1000.0),
            (102.0, 10.0),
            (103.0, 1000.0),
        ]
        .to_vec();
        assert!(fit(&[wild], None).unwrap().beta <= 1.5);
    }
}
