//! [`ContainerGraph`]: containers and the dependencies between them (the namespaces
//! they join, `--requires`), ordered so that dependencies start first and stop last.
//! A graph with a cycle is refused, naming the containers on it.

use std::collections::{BTreeMap, HashMap, HashSet};

use corral_define::ContainerConfig;

use crate::container::Container;
use crate::error::{CoreError, Result};
use crate::runtime::Runtime;

/// Each container's ID with the IDs of the containers it depends on.
pub type DependencyMap = BTreeMap<String, Vec<String>>;

/// One container of a [`ContainerGraph`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphNode {
    pub id: String,
    /// Shown in the cycle error; the ID when empty.
    pub name: String,
    /// IDs of the containers this one depends on.
    pub dependencies: Vec<String>,
}

impl GraphNode {
    pub fn of(config: &ContainerConfig) -> GraphNode {
        GraphNode {
            id: config.id.to_string(),
            name: config.name.to_string(),
            dependencies: config.dependencies(),
        }
    }

    fn label(&self) -> &str {
        if self.name.is_empty() { &self.id } else { &self.name }
    }
}

/// A set of containers and the dependency edges among them, in an order where
/// every container comes after the ones it depends on. Dependencies on containers
/// outside the set are left out: they are not acted on.
#[derive(Debug, Clone)]
pub struct ContainerGraph {
    nodes: Vec<GraphNode>,
    /// Indexes into `nodes`, dependencies first.
    order: Vec<usize>,
}

/// Where the depth-first walk is with a node.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mark {
    New,
    OnPath,
    Done,
}

impl ContainerGraph {
    /// Builds the graph; a dependency cycle is an `InvalidArg` error naming it
    /// (`a -> b -> a`). Nodes with the same ID count once (the first).
    pub fn new(nodes: impl IntoIterator<Item = GraphNode>) -> Result<ContainerGraph> {
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut unique: Vec<GraphNode> = Vec::new();
        for node in nodes {
            if !index.contains_key(&node.id) {
                index.insert(node.id.clone(), unique.len());
                unique.push(node);
            }
        }
        let edges: Vec<Vec<usize>> = unique
            .iter()
            .map(|n| n.dependencies.iter().filter_map(|d| index.get(d).copied()).collect())
            .collect();
        let order = topological_order(&edges).map_err(|cycle| {
            let path: Vec<&str> = cycle.iter().map(|&i| unique[i].label()).collect();
            CoreError::InvalidArg(format!(
                "cycle found in container dependency graph: {}",
                path.join(" -> ")
            ))
        })?;
        Ok(ContainerGraph { nodes: unique, order })
    }

    /// The graph of these containers' configs.
    pub fn of_containers<'a>(containers: impl IntoIterator<Item = &'a Container>) -> Result<ContainerGraph> {
        ContainerGraph::new(containers.into_iter().map(|c| GraphNode::of(c.config())))
    }

    /// Every container's dependencies within the graph.
    pub fn dependency_map(&self) -> DependencyMap {
        let ids: Vec<&str> = self.nodes.iter().map(|n| n.id.as_str()).collect();
        self.nodes
            .iter()
            .map(|n| {
                let deps = n
                    .dependencies
                    .iter()
                    .filter(|d| ids.contains(&d.as_str()))
                    .cloned()
                    .collect();
                (n.id.clone(), deps)
            })
            .collect()
    }

    /// IDs in the order to start them: every container after its dependencies.
    pub fn start_order(&self) -> Vec<String> {
        self.order.iter().map(|&i| self.nodes[i].id.clone()).collect()
    }

    /// IDs in the order to stop or remove them: every container before its
    /// dependencies.
    pub fn stop_order(&self) -> Vec<String> {
        self.order.iter().rev().map(|&i| self.nodes[i].id.clone()).collect()
    }

    /// IDs of the containers in the graph that depend on `id` directly.
    pub fn dependents(&self, id: &str) -> Vec<String> {
        self.nodes
            .iter()
            .filter(|n| n.dependencies.iter().any(|d| d == id))
            .map(|n| n.id.clone())
            .collect()
    }

    /// `items` (each naming a container with `id_of`) reordered so that each comes
    /// after the items it depends on, directly or through containers of the graph;
    /// otherwise they keep the order given, as podman acts on its arguments in order.
    pub fn arrange_for_start<T>(&self, items: Vec<T>, id_of: impl Fn(&T) -> &str) -> Vec<T> {
        self.arrange(items, id_of, Direction::DependenciesFirst)
    }

    /// `items` in stop (and removal) order: each before the items it depends on,
    /// otherwise in the order given.
    pub fn arrange_for_stop<T>(&self, items: Vec<T>, id_of: impl Fn(&T) -> &str) -> Vec<T> {
        self.arrange(items, id_of, Direction::DependentsFirst)
    }

    fn arrange<T>(&self, items: Vec<T>, id_of: impl Fn(&T) -> &str, direction: Direction) -> Vec<T> {
        let index: HashMap<&str, &GraphNode> = self.nodes.iter().map(|n| (n.id.as_str(), n)).collect();
        let ids: Vec<String> = items.iter().map(|item| id_of(item).to_owned()).collect();
        let closures: Vec<HashSet<&str>> = ids.iter().map(|id| dependency_closure(&index, id)).collect();
        // Whether item `a` has to wait for item `b`.
        let waits_for = |a: usize, b: usize| match direction {
            Direction::DependenciesFirst => closures[a].contains(ids[b].as_str()),
            Direction::DependentsFirst => closures[b].contains(ids[a].as_str()),
        };
        // In the order given, each item pulling in first the items it waits for.
        let mut placed = vec![false; items.len()];
        let mut order = Vec::with_capacity(items.len());
        for first in 0..items.len() {
            let mut path = vec![first];
            while let Some(&a) = path.last() {
                if placed[a] {
                    path.pop();
                    continue;
                }
                let blocker = (0..items.len()).find(|&b| b != a && !placed[b] && waits_for(a, b) && !path.contains(&b));
                match blocker {
                    Some(b) => path.push(b),
                    None => {
                        placed[a] = true;
                        order.push(a);
                        path.pop();
                    }
                }
            }
        }
        let mut slots: Vec<Option<T>> = items.into_iter().map(Some).collect();
        order.into_iter().filter_map(|i| slots[i].take()).collect()
    }
}

/// Every container of the graph that `id` depends on, directly or not.
fn dependency_closure<'a>(index: &HashMap<&'a str, &'a GraphNode>, id: &str) -> HashSet<&'a str> {
    let mut seen = HashSet::new();
    let mut pending: Vec<&str> = index
        .get(id)
        .map(|n| n.dependencies.iter().map(String::as_str).collect())
        .unwrap_or_default();
    while let Some(next) = pending.pop() {
        if let Some((&known, node)) = index.get_key_value(next)
            && seen.insert(known)
        {
            pending.extend(node.dependencies.iter().map(String::as_str));
        }
    }
    seen
}

/// Which end of a dependency [`ContainerGraph::arrange`] puts first.
#[derive(Clone, Copy)]
enum Direction {
    DependenciesFirst,
    DependentsFirst,
}

/// Depth-first post-order over `edges` (node -> its dependencies), nodes taken in
/// index order so the result is stable; a cycle comes back as its path, first node
/// repeated at the end.
fn topological_order(edges: &[Vec<usize>]) -> std::result::Result<Vec<usize>, Vec<usize>> {
    let mut marks = vec![Mark::New; edges.len()];
    let mut order = Vec::with_capacity(edges.len());
    for root in 0..edges.len() {
        if marks[root] != Mark::New {
            continue;
        }
        // An explicit stack of (node, next edge to follow), so deep chains cannot
        // overflow the thread's stack.
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        marks[root] = Mark::OnPath;
        while let Some(top) = stack.last_mut() {
            let node = top.0;
            if let Some(&dep) = edges[node].get(top.1) {
                top.1 += 1;
                match marks[dep] {
                    Mark::Done => {}
                    Mark::New => {
                        marks[dep] = Mark::OnPath;
                        stack.push((dep, 0));
                    }
                    Mark::OnPath => {
                        let start = stack.iter().position(|&(n, _)| n == dep).unwrap_or(0);
                        let mut cycle: Vec<usize> = stack[start..].iter().map(|&(n, _)| n).collect();
                        cycle.push(dep);
                        return Err(cycle);
                    }
                }
            } else {
                marks[node] = Mark::Done;
                order.push(node);
                stack.pop();
            }
        }
    }
    Ok(order)
}

impl Runtime {
    /// The graph of every container.
    pub fn container_graph(&self) -> Result<ContainerGraph> {
        let records = self.inner.state.all_containers(false)?;
        ContainerGraph::new(records.iter().map(|r| GraphNode::of(&r.config)))
    }

    /// Refuses a new container whose dependencies would close a cycle: walks from
    /// `dependencies` through the store and fails if the walk comes back to `node`.
    /// (With dependencies fixed at creation and named by existing containers, no
    /// cycle can form; the check keeps that true whatever the store holds.)
    pub(crate) fn check_new_dependencies(&self, node: GraphNode) -> Result<()> {
        let mut nodes = vec![node.clone()];
        let mut pending = node.dependencies.clone();
        let mut seen = vec![node.id.clone()];
        while let Some(id) = pending.pop() {
            if seen.contains(&id) {
                continue;
            }
            seen.push(id.clone());
            let config = self.inner.state.get_container_config(&id)?;
            let dep = GraphNode::of(&config);
            pending.extend(dep.dependencies.iter().cloned());
            nodes.push(dep);
        }
        ContainerGraph::new(nodes).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use corral_define::{ErrorKind, HasKind};
    use proptest::prelude::*;

    fn node(id: &str, deps: &[&str]) -> GraphNode {
        GraphNode {
            id: id.into(),
            name: format!("n-{id}"),
            dependencies: deps.iter().map(|d| d.to_string()).collect(),
        }
    }

    #[test]
    fn dependencies_start_first_and_stop_last() {
        let g = ContainerGraph::new([node("web", &["db", "cache"]), node("db", &[]), node("cache", &["db"])]).unwrap();
        assert_eq!(g.start_order(), ["db", "cache", "web"]);
        assert_eq!(g.stop_order(), ["web", "cache", "db"]);
        assert_eq!(g.dependents("db"), ["web", "cache"]);
        assert_eq!(g.dependency_map()["web"], ["db", "cache"]);
    }

    #[test]
    fn outside_dependencies_and_repeats_are_ignored() {
        let g = ContainerGraph::new([node("a", &["elsewhere"]), node("b", &["a"]), node("a", &["b"])]).unwrap();
        assert_eq!(g.start_order(), ["a", "b"]);
        assert!(g.dependency_map()["a"].is_empty());
    }

    #[test]
    fn a_cycle_is_named() {
        let err = ContainerGraph::new([node("a", &["b"]), node("b", &["c"]), node("c", &["a"])]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArg);
        assert_eq!(
            err.to_string(),
            "cycle found in container dependency graph: n-a -> n-b -> n-c -> n-a: invalid argument"
        );
        let err = ContainerGraph::new([node("x", &["x"])]).unwrap_err();
        assert!(err.to_string().contains("n-x -> n-x"), "{err}");
    }

    #[test]
    fn items_are_arranged_by_the_graph() {
        let g = ContainerGraph::new([node("web", &["db"]), node("db", &[])]).unwrap();
        let items = vec![("web", 1), ("other", 2), ("db", 3)];
        assert_eq!(
            g.arrange_for_start(items.clone(), |i| i.0),
            [("db", 3), ("web", 1), ("other", 2)]
        );
        assert_eq!(
            g.arrange_for_stop(items, |i| i.0),
            [("web", 1), ("other", 2), ("db", 3)]
        );
        // Nothing to order: the order given stays, as podman acts on its arguments.
        assert_eq!(g.arrange_for_stop(vec!["other", "db"], |i| i), ["other", "db"]);
        assert_eq!(g.arrange_for_start(vec!["other", "web"], |i| i), ["other", "web"]);
        assert_eq!(g.arrange_for_stop(vec!["db", "web"], |i| i), ["web", "db"]);
        // Through a container not among the items: app -> web -> db.
        let g = ContainerGraph::new([node("app", &["web"]), node("web", &["db"]), node("db", &[])]).unwrap();
        assert_eq!(g.arrange_for_start(vec!["app", "db"], |i| i), ["db", "app"]);
        assert_eq!(g.arrange_for_stop(vec!["db", "app"], |i| i), ["app", "db"]);
    }

    #[test]
    fn a_long_chain_does_not_overflow() {
        let n = 100_000;
        let nodes = (0..n).map(|i| GraphNode {
            id: i.to_string(),
            name: String::new(),
            dependencies: if i + 1 < n {
                vec![(i + 1).to_string()]
            } else {
                Vec::new()
            },
        });
        let g = ContainerGraph::new(nodes).unwrap();
        assert_eq!(g.start_order().first().map(String::as_str), Some("99999"));
    }

    /// Random DAGs: edges only from a higher to a lower number, then shuffled names.
    fn dag() -> impl Strategy<Value = Vec<GraphNode>> {
        (1usize..40).prop_flat_map(|n| {
            let edges = proptest::collection::vec(proptest::collection::vec(any::<prop::sample::Index>(), 0..4), n);
            (edges, Just(n)).prop_map(|(edges, n)| {
                (0..n)
                    .map(|i| GraphNode {
                        id: format!("c{i}"),
                        name: String::new(),
                        dependencies: if i == 0 {
                            Vec::new()
                        } else {
                            edges[i].iter().map(|ix| format!("c{}", ix.index(i))).collect()
                        },
                    })
                    .rev()
                    .collect()
            })
        })
    }

    proptest! {
        #[test]
        fn orders_respect_every_edge(nodes in dag()) {
            let g = ContainerGraph::new(nodes.clone()).unwrap();
            let start = g.start_order();
            let stop = g.stop_order();
            prop_assert_eq!(start.len(), nodes.len());
            let pos = |order: &[String], id: &str| order.iter().position(|x| x == id).unwrap();
            for n in &nodes {
                for d in &n.dependencies {
                    prop_assert!(pos(&start, d) < pos(&start, &n.id));
                    prop_assert!(pos(&stop, d) > pos(&stop, &n.id));
                }
            }
        }

        #[test]
        fn arranged_items_respect_every_path(
            nodes in dag(),
            picks in proptest::collection::vec(any::<prop::sample::Index>(), 0..12),
        ) {
            let g = ContainerGraph::new(nodes.clone()).unwrap();
            let mut items: Vec<String> = picks.iter().map(|p| nodes[p.index(nodes.len())].id.clone()).collect();
            items.dedup();
            let start = g.arrange_for_start(items.clone(), |i| i);
            let stop = g.arrange_for_stop(items.clone(), |i| i);
            let mut sorted = start.clone();
            sorted.sort();
            let mut given = items.clone();
            given.sort();
            prop_assert_eq!(sorted, given, "the same items come back");
            let index: HashMap<&str, &GraphNode> = g.nodes.iter().map(|n| (n.id.as_str(), n)).collect();
            for (a_pos, a) in start.iter().enumerate() {
                for dep in dependency_closure(&index, a) {
                    if let Some(d_pos) = start.iter().position(|x| x == dep) {
                        prop_assert!(d_pos < a_pos, "{} starts before its dependency {}", a, dep);
                    }
                }
            }
            for (a_pos, a) in stop.iter().enumerate() {
                for dep in dependency_closure(&index, a) {
                    if let Some(d_pos) = stop.iter().position(|x| x == dep) {
                        prop_assert!(d_pos > a_pos, "{} stops after its dependency {}", a, dep);
                    }
                }
            }
        }

        #[test]
        fn a_back_edge_is_refused(nodes in dag(), pick in any::<prop::sample::Index>()) {
            // Close a cycle: a node with a dependency gets its dependency to depend on it.
            let with_deps: Vec<&GraphNode> = nodes.iter().filter(|n| !n.dependencies.is_empty()).collect();
            prop_assume!(!with_deps.is_empty());
            let from = with_deps[pick.index(with_deps.len())].clone();
            let to = from.dependencies[0].clone();
            let mut nodes = nodes;
            for n in nodes.iter_mut().filter(|n| n.id == to) {
                n.dependencies.push(from.id.clone());
            }
            let err = ContainerGraph::new(nodes).unwrap_err();
            prop_assert!(err.to_string().contains("cycle found"), "{}", err);
        }
    }
}
