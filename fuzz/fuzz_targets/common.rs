//! What several fuzz targets share.

use genesys_auth::{Error, Rng};

/// The same bytes every run: states and verifiers are reproducible, and so is every crash.
pub struct Fixed(pub u8);

impl Rng for Fixed {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), Error> {
        for b in dest {
            self.0 = self.0.wrapping_mul(31).wrapping_add(7);
            *b = self.0;
        }
        Ok(())
    }
}
