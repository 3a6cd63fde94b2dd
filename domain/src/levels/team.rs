//! 团队业绩: an agent's team is itself and its whole referral subtree; team sales are the sum of
//! their personal sales. Rolled up leaves first over the referrer links, in one pass.

use std::collections::HashMap;

/// Team sums per agent, `width` numbers (one per window bucket) each.
#[derive(Debug, Clone, Default)]
pub struct TeamSums {
    ids: Vec<i64>,
    width: usize,
    sums: Vec<i64>,
}

impl TeamSums {
    /// `agents`: every agent's (id, referrer), any order; `own`: an agent's own numbers (absent
    /// is zeros). A referral cycle (impossible by construction) leaves its members' sums partial.
    pub fn roll_up(
        agents: &[(i64, Option<i64>)],
        own: &HashMap<i64, Vec<i64>>,
        width: usize,
    ) -> TeamSums {
        let mut ids: Vec<i64> = agents.iter().map(|(id, _)| *id).collect();
        ids.sort_unstable();
        ids.dedup();
        let index = |id: i64| ids.binary_search(&id).ok();
        let mut parent: Vec<Option<usize>> = vec![None; ids.len()];
        for (id, referrer) in agents {
            if let (Some(i), Some(p)) = (index(*id), referrer.and_then(index)) {
                parent[i] = (p != i).then_some(p);
            }
        }
        let mut sums = vec![0i64; ids.len() * width];
        for (id, v) in own {
            if let Some(i) = index(*id) {
                for (k, x) in v.iter().take(width).enumerate() {
                    sums[i * width + k] += x;
                }
            }
        }
        let mut pending = vec![0u32; ids.len()];
        for p in parent.iter().flatten() {
            pending[*p] += 1;
        }
        let mut ready: Vec<usize> = (0..ids.len()).filter(|i| pending[*i] == 0).collect();
        while let Some(i) = ready.pop() {
            if let Some(p) = parent[i] {
                for k in 0..width {
                    sums[p * width + k] += sums[i * width + k];
                }
                pending[p] -= 1;
                if pending[p] == 0 {
                    ready.push(p);
                }
            }
        }
        TeamSums { ids, width, sums }
    }

    /// The team's numbers of `id` (zeros for an unknown agent).
    pub fn of(&self, id: i64) -> &[i64] {
        match self.ids.binary_search(&id) {
            Ok(i) => &self.sums[i * self.width..(i + 1) * self.width],
            Err(_) => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_team_is_the_whole_subtree() {
        // 1 ← 2 ← 3, 1 ← 4; 5 alone. Ids out of order on purpose.
        let agents = [
            (3, Some(2)),
            (1, None),
            (4, Some(1)),
            (2, Some(1)),
            (5, None),
        ];
        let own: HashMap<i64, Vec<i64>> = [
            (1, vec![1, 10]),
            (2, vec![2, 20]),
            (3, vec![3, 30]),
            (4, vec![4, 40]),
        ]
        .into();
        let t = TeamSums::roll_up(&agents, &own, 2);
        assert_eq!(t.of(1), &[10, 100]);
        assert_eq!(t.of(2), &[5, 50]);
        assert_eq!(t.of(3), &[3, 30]);
        assert_eq!(t.of(5), &[0, 0]);
        assert!(t.of(9).is_empty());
    }
}
