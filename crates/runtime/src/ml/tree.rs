//! A tree ensemble flattened for fast evaluation, built from the `nodes_*` and leaf
//! attributes of `TreeEnsembleRegressor` / `TreeEnsembleClassifier` and validated once.
//!
//! Layout: every branch node of every tree sits in one array of 16-byte [`Branch`]es, laid
//! out tree by tree in depth-first order (the true child of a node usually follows it, so a
//! walk reads consecutive cache lines). A child reference is either a branch index or, with
//! [`LEAF`] set, a leaf index. What a walk does not touch lives in separate arrays: the
//! per-node comparison modes and missing-value flags (only consulted when an ensemble mixes
//! modes or tracks missing values) and the leaves' weights (compressed rows: `leaf_start`,
//! `weight_target`, `weight_value`). The walk is branch-light: the comparison picks the next
//! child by indexing `children[go_true as usize]`, which compiles to a conditional move.

use std::collections::HashMap;

use tract_onnx::tract_hir::internal::*;

use super::Attributes;

/// Marks a child reference as a leaf index.
pub(crate) const LEAF: u32 = 1 << 31;

/// How a branch node compares a feature with its threshold (true: take the true branch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Mode {
    Leq,
    Lt,
    Gte,
    Gt,
    Eq,
    Neq,
}

impl Mode {
    fn parse(text: &str) -> Option<Option<Mode>> {
        Some(match text {
            "BRANCH_LEQ" => Some(Mode::Leq),
            "BRANCH_LT" => Some(Mode::Lt),
            "BRANCH_GTE" => Some(Mode::Gte),
            "BRANCH_GT" => Some(Mode::Gt),
            "BRANCH_EQ" => Some(Mode::Eq),
            "BRANCH_NEQ" => Some(Mode::Neq),
            "LEAF" => None,
            _ => return None,
        })
    }

    #[inline(always)]
    fn go_true(self, x: f32, threshold: f32) -> bool {
        match self {
            Mode::Leq => x <= threshold,
            Mode::Lt => x < threshold,
            Mode::Gte => x >= threshold,
            Mode::Gt => x > threshold,
            Mode::Eq => x == threshold,
            Mode::Neq => x != threshold,
        }
    }
}

/// One branch node: what a walk reads at each step.
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C)]
pub(crate) struct Branch {
    pub threshold: f32,
    pub feature: u32,
    /// `[false child, true child]`.
    pub children: [u32; 2],
}

/// A validated, flattened ensemble.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Forest {
    /// Per tree, its root reference (a branch index, or a leaf with [`LEAF`] set).
    pub roots: Vec<u32>,
    pub branches: Vec<Branch>,
    /// Per branch, its mode; empty when every branch has `uniform_mode`.
    pub modes: Vec<Mode>,
    pub uniform_mode: Mode,
    /// Per branch, whether a missing value (NaN) takes the true branch; empty if none does.
    pub nan_true: Vec<bool>,
    /// Leaf `l` holds weights `leaf_start[l]..leaf_start[l + 1]`.
    pub leaf_start: Vec<u32>,
    pub weight_target: Vec<u32>,
    pub weight_value: Vec<f32>,
    /// Per leaf, its one weight, when every leaf has exactly one weight for target 0 (the
    /// single-target fast path); empty otherwise.
    pub leaf_value: Vec<f32>,
    /// One past the largest feature index any branch reads.
    pub n_features: usize,
    pub n_targets: usize,
}

/// Reads and validates the ensemble of a node. `prefix` is `target` (regressor) or `class`
/// (classifier); `n_targets` bounds the leaves' target or class ids.
pub(crate) fn parse(
    attributes: &Attributes,
    prefix: &str,
    n_targets: usize,
) -> TractResult<Forest> {
    let error = |reason: String| attributes.error(reason);
    let tree_ids = attributes.indices("nodes_treeids", None)?;
    let n_nodes = tree_ids.len();
    if n_nodes == 0 {
        return Err(error(
            "the ensemble has no nodes (nodes_treeids is empty)".into(),
        ));
    }
    if n_nodes >= LEAF as usize {
        return Err(error(format!("{n_nodes} nodes is too many")));
    }
    let node_ids = attributes.indices("nodes_nodeids", None)?;
    let feature_ids = attributes.indices("nodes_featureids", None)?;
    let true_ids = attributes.indices("nodes_truenodeids", None)?;
    let false_ids = attributes.indices("nodes_falsenodeids", None)?;
    let values = attributes.floats_or_tensor("nodes_values")?;
    let mode_names = attributes.strings("nodes_modes")?;
    let missing_true = attributes.ints("nodes_missing_value_tracks_true");
    let lengths = [
        ("nodes_nodeids", node_ids.len()),
        ("nodes_featureids", feature_ids.len()),
        ("nodes_truenodeids", true_ids.len()),
        ("nodes_falsenodeids", false_ids.len()),
        ("nodes_values", values.len()),
        ("nodes_modes", mode_names.len()),
    ];
    for (name, length) in lengths {
        if length != n_nodes {
            return Err(error(format!(
                "{name} has {length} values where nodes_treeids has {n_nodes}"
            )));
        }
    }
    if !missing_true.is_empty() && missing_true.len() != n_nodes {
        return Err(error(format!(
            "nodes_missing_value_tracks_true has {} values where nodes_treeids has {n_nodes}",
            missing_true.len()
        )));
    }
    let modes: Vec<Option<Mode>> = mode_names
        .iter()
        .map(|name| Mode::parse(name).ok_or_else(|| error(format!("unknown node mode '{name}'"))))
        .collect::<TractResult<_>>()?;

    // (tree, node) -> position in the attribute arrays.
    let mut position: HashMap<(usize, usize), usize> = HashMap::with_capacity(n_nodes);
    for index in 0..n_nodes {
        if position
            .insert((tree_ids[index], node_ids[index]), index)
            .is_some()
        {
            return Err(error(format!(
                "node {} of tree {} is defined twice",
                node_ids[index], tree_ids[index]
            )));
        }
    }

    // The leaves' weights, per node position.
    let leaf_trees = attributes.indices(&format!("{prefix}_treeids"), None)?;
    let leaf_nodes = attributes.indices(&format!("{prefix}_nodeids"), None)?;
    let leaf_targets = attributes.indices(&format!("{prefix}_ids"), Some(n_targets))?;
    let leaf_weights = attributes.floats_or_tensor(&format!("{prefix}_weights"))?;
    let n_weights = leaf_trees.len();
    for (name, length) in [
        (format!("{prefix}_nodeids"), leaf_nodes.len()),
        (format!("{prefix}_ids"), leaf_targets.len()),
        (format!("{prefix}_weights"), leaf_weights.len()),
    ] {
        if length != n_weights {
            return Err(error(format!(
                "{name} has {length} values where {prefix}_treeids has {n_weights}"
            )));
        }
    }
    let mut weights_of: Vec<Vec<(u32, f32)>> = vec![Vec::new(); n_nodes];
    for index in 0..n_weights {
        let key = (leaf_trees[index], leaf_nodes[index]);
        let Some(&node) = position.get(&key) else {
            return Err(error(format!(
                "a weight refers to node {} of tree {}, which does not exist",
                key.1, key.0
            )));
        };
        if modes[node].is_some() {
            return Err(error(format!(
                "a weight refers to node {} of tree {}, which is not a LEAF",
                key.1, key.0
            )));
        }
        weights_of[node].push((leaf_targets[index] as u32, leaf_weights[index]));
    }

    // Children, parents and roots.
    let mut parents = vec![0u8; n_nodes];
    let mut children_of = vec![[0usize; 2]; n_nodes];
    for index in 0..n_nodes {
        if modes[index].is_none() {
            continue;
        }
        let tree = tree_ids[index];
        for (slot, child_id) in [(0, false_ids[index]), (1, true_ids[index])] {
            let Some(&child) = position.get(&(tree, child_id)) else {
                return Err(error(format!(
                    "node {} of tree {tree} points to node {child_id}, which the tree does not have",
                    node_ids[index]
                )));
            };
            children_of[index][slot] = child;
            if slot == 0 || false_ids[index] != true_ids[index] {
                parents[child] = parents[child].saturating_add(1);
            }
            if parents[child] > 1 {
                return Err(error(format!(
                    "node {child_id} of tree {tree} has more than one parent (not a tree)"
                )));
            }
        }
    }
    let mut trees: Vec<usize> = tree_ids.clone();
    trees.sort_unstable();
    trees.dedup();
    let mut root_of: HashMap<usize, usize> = HashMap::with_capacity(trees.len());
    for index in 0..n_nodes {
        if parents[index] == 0 && root_of.insert(tree_ids[index], index).is_some() {
            return Err(error(format!(
                "tree {} has more than one root (nodes no other node points to)",
                tree_ids[index]
            )));
        }
    }

    // Lay every tree out depth first from its root, true child first.
    let mut forest = Forest {
        roots: Vec::with_capacity(trees.len()),
        branches: Vec::new(),
        modes: Vec::new(),
        uniform_mode: Mode::Leq,
        nan_true: Vec::new(),
        leaf_start: vec![0],
        weight_target: Vec::new(),
        weight_value: Vec::new(),
        leaf_value: Vec::new(),
        n_features: 0,
        n_targets,
    };
    let mut branch_modes: Vec<Mode> = Vec::new();
    let mut branch_nan: Vec<bool> = Vec::new();
    let mut visited = vec![false; n_nodes];
    let mut n_visited = 0usize;
    for &tree in &trees {
        let Some(&root) = root_of.get(&tree) else {
            return Err(error(format!(
                "tree {tree} has no root: its nodes form a cycle"
            )));
        };
        // Reserve a slot per node as it is first seen, then fill it.
        let mut stack: Vec<(usize, Option<(usize, usize)>)> = vec![(root, None)];
        while let Some((node, parent_slot)) = stack.pop() {
            if visited[node] {
                return Err(error(format!(
                    "node {} of tree {tree} is reached twice (a cycle)",
                    node_ids[node]
                )));
            }
            visited[node] = true;
            n_visited += 1;
            let reference = match modes[node] {
                Some(mode) => {
                    let index = forest.branches.len();
                    forest.branches.push(Branch {
                        threshold: values[node],
                        feature: u32::try_from(feature_ids[node])
                            .map_err(|_| error("a feature id is too large".into()))?,
                        children: [0, 0],
                    });
                    forest.n_features = forest.n_features.max(feature_ids[node] + 1);
                    branch_modes.push(mode);
                    branch_nan.push(missing_true.get(node).is_some_and(|&flag| flag != 0));
                    let [false_child, true_child] = children_of[node];
                    stack.push((false_child, Some((index, 0))));
                    if true_child != false_child {
                        stack.push((true_child, Some((index, 1))));
                    } else {
                        // Both branches lead to the same node: link it once, then copy.
                        forest.branches[index].children[1] = u32::MAX;
                    }
                    index as u32
                }
                None => {
                    let leaf = forest.leaf_start.len() - 1;
                    for &(target, weight) in &weights_of[node] {
                        forest.weight_target.push(target);
                        forest.weight_value.push(weight);
                    }
                    forest.leaf_start.push(forest.weight_target.len() as u32);
                    leaf as u32 | LEAF
                }
            };
            match parent_slot {
                None => forest.roots.push(reference),
                Some((parent, slot)) => {
                    let children = &mut forest.branches[parent].children;
                    children[slot] = reference;
                    if slot == 0 && children[1] == u32::MAX {
                        children[1] = reference;
                    }
                }
            }
        }
    }
    if n_visited != n_nodes {
        return Err(error(format!(
            "{} node(s) cannot be reached from their tree's root (a cycle or a detached node)",
            n_nodes - n_visited
        )));
    }
    if forest.leaf_start.len() > LEAF as usize {
        return Err(error("too many leaves".into()));
    }
    if let Some(&first) = branch_modes.first() {
        forest.uniform_mode = first;
        if branch_modes.iter().any(|&mode| mode != first) {
            forest.modes = branch_modes;
        }
    }
    if branch_nan.iter().any(|&flag| flag) {
        forest.nan_true = branch_nan;
    }
    let single = forest
        .leaf_start
        .windows(2)
        .all(|bounds| bounds[1] == bounds[0] + 1)
        && forest.weight_target.iter().all(|&target| target == 0);
    if single {
        forest.leaf_value = forest.weight_value.clone();
    }
    Ok(forest)
}

impl Forest {
    pub(crate) fn n_trees(&self) -> usize {
        self.roots.len()
    }

    /// The weights of leaf `leaf`: `(target, value)` pairs.
    #[inline(always)]
    pub(crate) fn weights(&self, leaf: usize) -> impl Iterator<Item = (usize, f32)> + '_ {
        let start = self.leaf_start[leaf] as usize;
        let end = self.leaf_start[leaf + 1] as usize;
        self.weight_target[start..end]
            .iter()
            .zip(&self.weight_value[start..end])
            .map(|(&target, &value)| (target as usize, value))
    }

    /// Calls `visit(row, leaf)` for every row of `features` (`rows` rows of `width`
    /// values) and every tree, trees in order for each row. Rows are taken in blocks so a
    /// tree's nodes stay in cache across the rows of a block.
    pub(crate) fn for_each_leaf(
        &self,
        features: &[f32],
        width: usize,
        rows: usize,
        visit: impl FnMut(usize, usize),
    ) -> TractResult<()> {
        ensure!(
            width >= self.n_features,
            "the ensemble reads feature {} but the input has {width} features per row",
            self.n_features.saturating_sub(1)
        );
        ensure!(
            features.len() >= rows * width,
            "the input is shorter than its shape"
        );
        match (
            self.modes.is_empty(),
            self.nan_true.is_empty(),
            self.uniform_mode,
        ) {
            (true, true, Mode::Leq) => self.walk_all::<LeqOnly>(features, width, rows, visit),
            (true, true, Mode::Lt) => self.walk_all::<LtOnly>(features, width, rows, visit),
            _ => self.walk_all::<General>(features, width, rows, visit),
        }
        Ok(())
    }

    #[inline(always)]
    fn walk_all<C: Comparator>(
        &self,
        features: &[f32],
        width: usize,
        rows: usize,
        mut visit: impl FnMut(usize, usize),
    ) {
        const BLOCK: usize = 64;
        let mut start = 0;
        while start < rows {
            let end = (start + BLOCK).min(rows);
            for &root in &self.roots {
                for row in start..end {
                    let values = &features[row * width..(row + 1) * width];
                    let leaf = self.walk::<C>(root, values);
                    visit(row, leaf);
                }
            }
            start = end;
        }
    }

    #[inline(always)]
    fn walk<C: Comparator>(&self, root: u32, values: &[f32]) -> usize {
        let mut node = root;
        while node & LEAF == 0 {
            let index = node as usize;
            let branch = &self.branches[index];
            let x = values[branch.feature as usize];
            let go_true = C::go_true(self, index, x, branch.threshold);
            node = branch.children[go_true as usize];
        }
        (node & !LEAF) as usize
    }
}

trait Comparator {
    fn go_true(forest: &Forest, index: usize, x: f32, threshold: f32) -> bool;
}

struct LeqOnly;
struct LtOnly;
struct General;

impl Comparator for LeqOnly {
    #[inline(always)]
    fn go_true(_: &Forest, _: usize, x: f32, threshold: f32) -> bool {
        x <= threshold
    }
}

impl Comparator for LtOnly {
    #[inline(always)]
    fn go_true(_: &Forest, _: usize, x: f32, threshold: f32) -> bool {
        x < threshold
    }
}

impl Comparator for General {
    #[inline(always)]
    fn go_true(forest: &Forest, index: usize, x: f32, threshold: f32) -> bool {
        let mode = forest
            .modes
            .get(index)
            .copied()
            .unwrap_or(forest.uniform_mode);
        mode.go_true(x, threshold)
            || (x.is_nan() && forest.nan_true.get(index).copied().unwrap_or(false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tract_onnx::pb::{AttributeProto, NodeProto};

    fn ints(name: &str, values: &[i64]) -> AttributeProto {
        AttributeProto {
            name: name.into(),
            ints: values.to_vec(),
            ..AttributeProto::default()
        }
    }

    fn floats(name: &str, values: &[f32]) -> AttributeProto {
        AttributeProto {
            name: name.into(),
            floats: values.to_vec(),
            ..AttributeProto::default()
        }
    }

    fn strings(name: &str, values: &[&str]) -> AttributeProto {
        AttributeProto {
            name: name.into(),
            strings: values.iter().map(|s| s.as_bytes().to_vec()).collect(),
            ..AttributeProto::default()
        }
    }

    /// One tree: node 0 splits feature 1 at 0.5 into leaves 1 (true) and 2 (false).
    fn stump() -> Vec<AttributeProto> {
        vec![
            ints("nodes_treeids", &[0, 0, 0]),
            ints("nodes_nodeids", &[0, 1, 2]),
            ints("nodes_featureids", &[1, 0, 0]),
            ints("nodes_truenodeids", &[1, 0, 0]),
            ints("nodes_falsenodeids", &[2, 0, 0]),
            floats("nodes_values", &[0.5, 0.0, 0.0]),
            strings("nodes_modes", &["BRANCH_LEQ", "LEAF", "LEAF"]),
            ints("target_treeids", &[0, 0]),
            ints("target_nodeids", &[1, 2]),
            ints("target_ids", &[0, 0]),
            floats("target_weights", &[10.0, 20.0]),
        ]
    }

    fn parse_with(attributes: Vec<AttributeProto>) -> TractResult<Forest> {
        let node = NodeProto {
            op_type: "TreeEnsembleRegressor".into(),
            name: "trees".into(),
            attribute: attributes,
            ..NodeProto::default()
        };
        parse(&Attributes::new(&node), "target", 1)
    }

    fn replaced(name: &str, attribute: AttributeProto) -> Vec<AttributeProto> {
        stump()
            .into_iter()
            .map(|a| if a.name == name { attribute.clone() } else { a })
            .collect()
    }

    fn refusal(attributes: Vec<AttributeProto>) -> String {
        format!("{:#}", parse_with(attributes).expect_err("refused"))
    }

    #[test]
    fn a_stump_walks_to_the_right_leaf() {
        let forest = parse_with(stump()).expect("valid");
        let mut leaves = Vec::new();
        forest
            .for_each_leaf(&[0.0, 0.4, 0.0, 0.6, 0.0, f32::NAN], 2, 3, |row, leaf| {
                leaves.push((row, leaf))
            })
            .expect("runs");
        let values: Vec<f32> = leaves
            .iter()
            .map(|&(_, leaf)| forest.leaf_value[leaf])
            .collect();
        assert_eq!(values, [10.0, 20.0, 20.0]);
        let error = forest
            .for_each_leaf(&[0.0], 1, 1, |_, _| {})
            .expect_err("too narrow");
        assert!(error.to_string().contains("feature 1"), "{error}");
    }

    #[test]
    fn inconsistent_trees_are_refused_with_the_reason() {
        let reason = refusal(replaced(
            "nodes_truenodeids",
            ints("nodes_truenodeids", &[7, 0, 0]),
        ));
        assert!(
            reason.contains("points to node 7") && reason.contains("'trees'"),
            "{reason}"
        );
        let reason = refusal(replaced("nodes_values", floats("nodes_values", &[0.5])));
        assert!(reason.contains("nodes_values has 1 values"), "{reason}");
        let reason = refusal(replaced("target_ids", ints("target_ids", &[0, 3])));
        assert!(reason.contains("target_ids holds 3"), "{reason}");
        let reason = refusal(replaced("target_nodeids", ints("target_nodeids", &[1, 0])));
        assert!(reason.contains("not a LEAF"), "{reason}");
        let reason = refusal(replaced("nodes_nodeids", ints("nodes_nodeids", &[0, 1, 1])));
        assert!(reason.contains("defined twice"), "{reason}");
        let reason = refusal(replaced(
            "nodes_modes",
            strings("nodes_modes", &["BRANCH_LEQ", "LEAF", "BRANCH_SOMETIMES"]),
        ));
        assert!(reason.contains("BRANCH_SOMETIMES"), "{reason}");
        let reason = refusal(replaced(
            "nodes_featureids",
            ints("nodes_featureids", &[-1, 0, 0]),
        ));
        assert!(reason.contains("negative"), "{reason}");
    }

    #[test]
    fn cycles_are_refused() {
        // Node 0 -> 1 -> 0: every node has a parent, so the tree has no root.
        let cycle = vec![
            ints("nodes_treeids", &[0, 0]),
            ints("nodes_nodeids", &[0, 1]),
            ints("nodes_featureids", &[0, 0]),
            ints("nodes_truenodeids", &[1, 0]),
            ints("nodes_falsenodeids", &[1, 0]),
            floats("nodes_values", &[0.5, 0.5]),
            strings("nodes_modes", &["BRANCH_LEQ", "BRANCH_LEQ"]),
            ints("target_treeids", &[]),
            ints("target_nodeids", &[]),
            ints("target_ids", &[]),
            floats("target_weights", &[]),
        ];
        let reason = refusal(cycle);
        assert!(reason.contains("cycle"), "{reason}");
        // A root leaf plus a detached two-node loop: unreachable nodes.
        let detached = vec![
            ints("nodes_treeids", &[0, 0, 0]),
            ints("nodes_nodeids", &[0, 1, 2]),
            ints("nodes_featureids", &[0, 0, 0]),
            ints("nodes_truenodeids", &[0, 2, 1]),
            ints("nodes_falsenodeids", &[0, 2, 1]),
            floats("nodes_values", &[0.0, 0.5, 0.5]),
            strings("nodes_modes", &["LEAF", "BRANCH_LEQ", "BRANCH_LEQ"]),
            ints("target_treeids", &[0]),
            ints("target_nodeids", &[0]),
            ints("target_ids", &[0]),
            floats("target_weights", &[1.0]),
        ];
        let reason = refusal(detached);
        assert!(reason.contains("cannot be reached"), "{reason}");
    }
}
