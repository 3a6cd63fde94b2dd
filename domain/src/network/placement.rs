//! Where an agent sits in the network (DOMAIN §3): its referrer (推荐人, who invited it; never
//! changes) and its supplier (上级, whom it buys from) — the nearest agent up the referrer chain whose
//! tier is strictly higher than its own, else HQ. Referral cycles of any length are rejected.
//!
//! The rules run over [`AgentGraph`], so the store can answer them from its tables; [`MemoryGraph`]
//! is the in-memory one the tests use.

use std::collections::{HashMap, HashSet};

use super::{AgentId, Party, TierRank};

/// What the placement rules need to know about agents.
pub trait AgentGraph {
    /// Who invited `id`; `None` for an agent HQ invited directly.
    fn referrer(&self, id: AgentId) -> Option<AgentId>;
    /// The agent's current tier.
    fn tier(&self, id: AgentId) -> TierRank;
}

/// An agent's supplier: another agent or HQ.
pub type Supplier = Party;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlacementError {
    #[error("an agent cannot refer itself")]
    SelfReferral,
    #[error("referral would close a cycle: {}", path_text(.0))]
    Cycle(Vec<AgentId>),
    #[error("the referrer chain above agent {0} loops back on itself")]
    CorruptChain(AgentId),
}

fn path_text(path: &[AgentId]) -> String {
    path.iter()
        .map(|a| a.to_string())
        .collect::<Vec<_>>()
        .join(" → ")
}

/// The referrer chain above `id`, nearest first; an error if it loops (which the store must never
/// hold, since [`check_referral`] guards every new edge).
pub fn referrer_chain(
    graph: &impl AgentGraph,
    id: AgentId,
) -> Result<Vec<AgentId>, PlacementError> {
    let mut seen = HashSet::from([id]);
    let mut chain = Vec::new();
    let mut at = id;
    while let Some(up) = graph.referrer(at) {
        if !seen.insert(up) {
            return Err(PlacementError::CorruptChain(id));
        }
        chain.push(up);
        at = up;
    }
    Ok(chain)
}

/// The nearest agent up the referrer chain whose tier is strictly higher than `id`'s, else HQ.
pub fn supplier_of(graph: &impl AgentGraph, id: AgentId) -> Result<Supplier, PlacementError> {
    supplier_at(graph, id, graph.tier(id))
}

/// The supplier `id` would have at `tier`: where an upgrade's top-up order goes, since the
/// upgrade takes effect when it is paid.
pub fn supplier_at(
    graph: &impl AgentGraph,
    id: AgentId,
    tier: TierRank,
) -> Result<Supplier, PlacementError> {
    Ok(referrer_chain(graph, id)?
        .into_iter()
        .find(|&up| graph.tier(up).is_above(tier))
        .map_or(Party::Hq, Party::Agent))
}

/// The suppliers above `id`, nearest first, up to (not including) HQ: who a forwarded order climbs.
pub fn supplier_chain(
    graph: &impl AgentGraph,
    id: AgentId,
) -> Result<Vec<AgentId>, PlacementError> {
    let mut chain = Vec::new();
    let mut at = id;
    while let Party::Agent(up) = supplier_of(graph, at)? {
        chain.push(up);
        at = up;
    }
    Ok(chain)
}

/// Refuses the edge `agent`'s referrer := `referrer` when it would close a cycle of any length
/// (A → B → C → A, not only A ↔ B).
pub fn check_referral(
    graph: &impl AgentGraph,
    agent: AgentId,
    referrer: AgentId,
) -> Result<(), PlacementError> {
    if agent == referrer {
        return Err(PlacementError::SelfReferral);
    }
    let above = referrer_chain(graph, referrer)?;
    if let Some(pos) = above.iter().position(|&a| a == agent) {
        let mut path = vec![agent, referrer];
        path.extend_from_slice(&above[..=pos]);
        return Err(PlacementError::Cycle(path));
    }
    Ok(())
}

/// After `changed` changed tier: the agents whose supplier may have moved (itself and everyone with
/// it in their referrer chain, among `agents`), each with its supplier recomputed.
pub fn recompute_after_tier_change(
    graph: &impl AgentGraph,
    changed: AgentId,
    agents: impl IntoIterator<Item = AgentId>,
) -> Result<Vec<(AgentId, Supplier)>, PlacementError> {
    let mut out = Vec::new();
    for id in agents {
        if id == changed || referrer_chain(graph, id)?.contains(&changed) {
            out.push((id, supplier_of(graph, id)?));
        }
    }
    Ok(out)
}

/// An in-memory [`AgentGraph`].
#[derive(Debug, Clone, Default)]
pub struct MemoryGraph {
    agents: HashMap<AgentId, (Option<AgentId>, TierRank)>,
}

impl MemoryGraph {
    /// Adds an agent after [`check_referral`]; its referrer must already be known.
    pub fn join(
        &mut self,
        id: AgentId,
        referrer: Option<AgentId>,
        tier: TierRank,
    ) -> Result<(), PlacementError> {
        if let Some(r) = referrer {
            check_referral(self, id, r)?;
        }
        self.agents.insert(id, (referrer, tier));
        Ok(())
    }

    /// Sets a referrer edge, as an import or a repair would: the cycle check still applies.
    pub fn set_referrer(&mut self, id: AgentId, referrer: AgentId) -> Result<(), PlacementError> {
        check_referral(self, id, referrer)?;
        if let Some(entry) = self.agents.get_mut(&id) {
            entry.0 = Some(referrer);
        }
        Ok(())
    }

    pub fn set_tier(&mut self, id: AgentId, tier: TierRank) {
        if let Some(entry) = self.agents.get_mut(&id) {
            entry.1 = tier;
        }
    }

    pub fn ids(&self) -> Vec<AgentId> {
        let mut ids: Vec<_> = self.agents.keys().copied().collect();
        ids.sort();
        ids
    }
}

impl AgentGraph for MemoryGraph {
    fn referrer(&self, id: AgentId) -> Option<AgentId> {
        self.agents.get(&id).and_then(|a| a.0)
    }
    /// Unknown agents read as the lowest possible tier.
    fn tier(&self, id: AgentId) -> TierRank {
        self.agents.get(&id).map_or(TierRank(u8::MAX), |a| a.1)
    }
}

impl crate::Refusal for PlacementError {
    fn code(&self) -> &'static str {
        match self {
            PlacementError::SelfReferral => "referral_to_self",
            PlacementError::Cycle(_) => "referral_cycle",
            PlacementError::CorruptChain(_) => "referral_chain_corrupt",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const N: TierRank = TierRank(1);
    const P: TierRank = TierRank(2);
    const C: TierRank = TierRank(3);
    const D: TierRank = TierRank(4);
    const S: TierRank = TierRank(5);

    fn a(n: u64) -> AgentId {
        AgentId(n)
    }

    /// 1 总代 ← 2 省代 ← 3 市代 ← 4 市代 ← 5 区代 ← 6 特约 (each referred by the previous).
    fn line() -> MemoryGraph {
        let mut g = MemoryGraph::default();
        let tiers = [N, P, C, C, D, S];
        for (i, t) in tiers.into_iter().enumerate() {
            let id = i as u64 + 1;
            g.join(a(id), (id > 1).then(|| a(id - 1)), t)
                .expect("no cycle");
        }
        g
    }

    #[test]
    fn supplier_is_the_nearest_strictly_higher_upline() {
        let g = line();
        assert_eq!(supplier_of(&g, a(1)), Ok(Party::Hq));
        assert_eq!(supplier_of(&g, a(2)), Ok(Party::Agent(a(1))));
        // 4 was referred by a same-tier 市代: it buys from the 省代 above.
        assert_eq!(supplier_of(&g, a(4)), Ok(Party::Agent(a(2))));
        assert_eq!(supplier_of(&g, a(5)), Ok(Party::Agent(a(4))));
        assert_eq!(supplier_chain(&g, a(6)), Ok(vec![a(5), a(4), a(2), a(1)]));
        assert_eq!(referrer_chain(&g, a(4)), Ok(vec![a(3), a(2), a(1)]));
    }

    #[test]
    fn referral_cycle_longer_than_two_is_rejected() {
        let mut g = MemoryGraph::default();
        g.join(a(1), None, C).expect("root");
        g.join(a(2), Some(a(1)), C).expect("B under A");
        g.join(a(3), Some(a(2)), C).expect("C under B");
        // A → B → C → A: A may not take C as its referrer.
        let err = g.set_referrer(a(1), a(3)).expect_err("cycle");
        assert_eq!(err, PlacementError::Cycle(vec![a(1), a(3), a(2), a(1)]));
        assert_eq!(
            g.set_referrer(a(1), a(2)),
            Err(PlacementError::Cycle(vec![a(1), a(2), a(1)]))
        );
        assert_eq!(
            g.set_referrer(a(1), a(1)),
            Err(PlacementError::SelfReferral)
        );
        assert_eq!(g.referrer(a(1)), None, "nothing changed");
    }

    #[test]
    fn a_tier_change_moves_the_downline_suppliers() {
        let mut g = line();
        // The 市代 3 upgrades to 省代: 4 (市代) now buys from 3, and so does nobody else change.
        g.set_tier(a(3), P);
        let moved = recompute_after_tier_change(&g, a(3), g.ids()).expect("no cycle");
        assert_eq!(
            moved,
            vec![
                (a(3), Party::Agent(a(1))),
                (a(4), Party::Agent(a(3))),
                (a(5), Party::Agent(a(4))),
                (a(6), Party::Agent(a(5))),
            ]
        );
    }

    proptest! {
        /// Whatever edges are attempted, the guarded graph never holds a cycle, and every
        /// supplier ranks strictly above its agent.
        #[test]
        fn guarded_graph_stays_acyclic(
            tiers in proptest::collection::vec(1u8..=5, 2..12),
            edges in proptest::collection::vec((0usize..12, 0usize..12), 0..40),
        ) {
            let mut g = MemoryGraph::default();
            for (i, t) in tiers.iter().enumerate() {
                g.join(a(i as u64), None, TierRank(*t)).expect("no referrer");
            }
            for (x, y) in edges {
                let (x, y) = (x % tiers.len(), y % tiers.len());
                let _ = g.set_referrer(a(x as u64), a(y as u64));
            }
            for id in g.ids() {
                prop_assert!(referrer_chain(&g, id).is_ok());
                if let Ok(Party::Agent(s)) = supplier_of(&g, id) {
                    prop_assert!(g.tier(s).is_above(g.tier(id)));
                }
            }
        }
    }
}
