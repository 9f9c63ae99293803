//! The option-slot layout: which (channel, lab) pair each AI option slot stands for.
//!
//! Channels are the providers' marketplaces (`0..n_providers`) followed by the labs' direct APIs
//! (`n_providers + l` is lab l's). Slot `k = channel · n_labs + lab`. Every piece of code that
//! needs a slot asks this type, so the arithmetic is written once.

/// Shape of the option space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotLayout {
    /// Number of providers (marketplace channels).
    pub n_providers: usize,
    /// Number of labs (models, and direct-API channels).
    pub n_labs: usize,
}

impl SlotLayout {
    /// Channels: provider marketplaces, then labs' direct APIs.
    pub fn n_channels(&self) -> usize {
        self.n_providers + self.n_labs
    }

    /// Option slots: channels × labs.
    pub fn n_slots(&self) -> usize {
        self.n_channels() * self.n_labs
    }

    /// Slot of (channel, lab).
    pub fn slot(&self, channel: usize, lab: usize) -> usize {
        channel * self.n_labs + lab
    }

    /// Slot of lab `lab`'s model on provider `provider`'s marketplace.
    pub fn marketplace_slot(&self, provider: usize, lab: usize) -> usize {
        self.slot(provider, lab)
    }

    /// Slot of lab `lab`'s own direct API.
    pub fn direct_slot(&self, lab: usize) -> usize {
        self.slot(self.n_providers + lab, lab)
    }

    /// (channel, lab) of a slot.
    pub fn split(&self, slot: usize) -> (usize, usize) {
        (slot / self.n_labs, slot % self.n_labs)
    }

    /// Provider billing a channel, if it is a marketplace.
    pub fn provider_of_channel(&self, channel: usize) -> Option<usize> {
        (channel < self.n_providers).then_some(channel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_round_trip_and_direct_slots_sit_on_the_labs_own_channel() {
        let l = SlotLayout {
            n_providers: 3,
            n_labs: 2,
        };
        assert_eq!(l.n_channels(), 5);
        assert_eq!(l.n_slots(), 10);
        for k in 0..l.n_slots() {
            let (c, lab) = l.split(k);
            assert_eq!(l.slot(c, lab), k);
        }
        assert_eq!(l.direct_slot(1), 9);
        assert_eq!(l.split(l.direct_slot(0)), (3, 0));
        assert_eq!(l.marketplace_slot(2, 1), 5);
        assert_eq!(l.provider_of_channel(2), Some(2));
        assert_eq!(l.provider_of_channel(3), None);
    }
}
