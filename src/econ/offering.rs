//! Which models a channel may offer, at what quality, and whether the lab earns its fee there.
//!
//! A provider's marketplace offers lab l's model when both operate and at least one path holds:
//! - **owner**: the provider owns the lab (first-party) → the lab's quality;
//! - **licence**: an active licence contract → the lab's quality, or the quality frozen by an
//!   AGI declaration;
//! - **open listing**: the marketplace is open and the lab lists on open marketplaces;
//! - **open weights**: the lab's models are open weights (its quality) or it released an
//!   open-weight model (quality − gap); any provider may host them.
//!
//! An exclusive licence held by another provider blocks the licence and listing paths (owner and
//! open-weight paths remain). The slot's quality is the best path's; the lab earns its model fee
//! only where a licence, owner or listing path gives that quality (open-weight hosting pays none),
//! and a lab whose models are open weights earns none anywhere: the same weights are free to host.

/// What the offering rules need to know about a lab.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LabOffering {
    /// Current model quality.
    pub quality: f64,
    /// Provider owning the lab, if any.
    pub owner: Option<usize>,
    /// Lists on every open marketplace.
    pub listing: bool,
    /// Its models are open weights.
    pub open_weight: bool,
    /// Quality gap of a released open-weight model, if any.
    pub open_release_gap: Option<f64>,
}

/// The lab's model as a marketplace offers it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MarketplaceOffer {
    /// Quality offered (the best path's).
    pub quality: f64,
    /// Whether the lab earns its model fee on this slot.
    pub earns_fee: bool,
}

/// The offer of `lab` on `provider`'s marketplace, if any path holds. `licences` are the
/// qualities of the active licences of (lab, provider) — frozen or current; `open_marketplace`
/// whether the provider's marketplace is open; `exclusive_holder` the provider holding a binding
/// exclusive licence of the lab, if any.
pub fn marketplace_offer(
    lab: &LabOffering,
    provider: usize,
    open_marketplace: bool,
    licences: &[f64],
    exclusive_holder: Option<usize>,
) -> Option<MarketplaceOffer> {
    let blocked = exclusive_holder.is_some_and(|h| h != provider);
    let mut licensed: Option<f64> = (lab.owner == Some(provider)).then_some(lab.quality);
    if !blocked {
        for &q in licences {
            licensed = Some(licensed.map_or(q, |l| l.max(q)));
        }
        if lab.listing && open_marketplace {
            licensed = Some(licensed.map_or(lab.quality, |l| l.max(lab.quality)));
        }
    }
    let open = if lab.open_weight {
        Some(lab.quality)
    } else {
        lab.open_release_gap.map(|g| lab.quality - g)
    };
    let quality = [licensed, open].into_iter().flatten().reduce(f64::max)?;
    Some(MarketplaceOffer {
        quality,
        earns_fee: !lab.open_weight && licensed.is_some_and(|lq| lq >= quality),
    })
}

/// The best open-weight quality on offer: labs whose models are open weights, and released
/// open-weight models (`q − gap`); 0 when there is none.
/// Each lab is `(operating, open-weight models, quality, released open-weight gap)`.
pub fn open_weight_frontier(labs: &[(bool, bool, f64, Option<f64>)]) -> f64 {
    labs.iter()
        .filter(|(active, ..)| *active)
        .filter_map(|&(_, open, q, gap)| if open { Some(q) } else { gap.map(|g| q - g) })
        .fold(0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLOSED: LabOffering = LabOffering {
        quality: 10.0,
        owner: None,
        listing: false,
        open_weight: false,
        open_release_gap: None,
    };

    #[test]
    fn a_closed_unlicensed_lab_is_offered_nowhere() {
        assert_eq!(marketplace_offer(&CLOSED, 0, true, &[], None), None);
    }

    #[test]
    fn owners_licences_and_open_listings_offer_the_model_with_its_fee() {
        let owned = LabOffering {
            owner: Some(1),
            ..CLOSED
        };
        assert_eq!(
            marketplace_offer(&owned, 1, false, &[], None),
            Some(MarketplaceOffer {
                quality: 10.0,
                earns_fee: true
            })
        );
        assert_eq!(marketplace_offer(&owned, 0, true, &[], None), None);
        let frozen = marketplace_offer(&CLOSED, 0, false, &[8.5], None).unwrap();
        assert_eq!((frozen.quality, frozen.earns_fee), (8.5, true));
        let listed = LabOffering {
            listing: true,
            ..CLOSED
        };
        assert!(marketplace_offer(&listed, 0, true, &[], None).is_some());
        assert_eq!(
            marketplace_offer(&listed, 0, false, &[], None),
            None,
            "partners-only marketplace"
        );
    }

    #[test]
    fn an_exclusive_licence_blocks_rival_licences_and_listings_but_not_owners() {
        let listed = LabOffering {
            listing: true,
            ..CLOSED
        };
        assert_eq!(marketplace_offer(&listed, 0, true, &[10.0], Some(2)), None);
        assert!(marketplace_offer(&listed, 2, true, &[10.0], Some(2)).is_some());
        let owned = LabOffering {
            owner: Some(0),
            ..CLOSED
        };
        assert!(marketplace_offer(&owned, 0, true, &[], Some(2)).is_some());
    }

    #[test]
    fn open_weights_are_hosted_everywhere_without_fee_unless_a_licence_is_as_good() {
        let released = LabOffering {
            open_release_gap: Some(1.5),
            ..CLOSED
        };
        let o = marketplace_offer(&released, 3, false, &[], None).unwrap();
        assert_eq!((o.quality, o.earns_fee), (8.5, false));
        // A licence at the frontier beats the open copy and earns the fee.
        let o = marketplace_offer(&released, 3, false, &[10.0], None).unwrap();
        assert_eq!((o.quality, o.earns_fee), (10.0, true));
        // A frozen licence below the open copy loses the fee.
        let o = marketplace_offer(&released, 3, false, &[8.0], None).unwrap();
        assert_eq!((o.quality, o.earns_fee), (8.5, false));
        let open = LabOffering {
            open_weight: true,
            ..CLOSED
        };
        let o = marketplace_offer(&open, 0, false, &[], Some(5)).unwrap();
        assert_eq!((o.quality, o.earns_fee), (10.0, false));
        // An open-weight lab earns no fee even where it is licensed or listed: its weights are
        // hosted free at the same quality.
        let listed = LabOffering { listing: true, ..open };
        let o = marketplace_offer(&listed, 2, true, &[10.0], None).unwrap();
        assert_eq!((o.quality, o.earns_fee), (10.0, false));
    }

    #[test]
    fn the_open_weight_frontier_is_the_best_open_model() {
        let labs = [
            (true, false, 10.0, None),
            (true, true, 8.0, None),
            (true, false, 9.5, Some(1.0)),
            (false, true, 12.0, None),
        ];
        assert_eq!(open_weight_frontier(&labs), 8.5);
        assert_eq!(open_weight_frontier(&labs[..1]), 0.0);
    }
}
