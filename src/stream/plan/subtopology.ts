/**
 * Sub-topologies: the app's graph cut at its key-changing edges (physical.ts'
 * repartitionEdges), as Kafka Streams cuts at repartition topics. Each cut edge becomes a sink
 * to `<app id>-<operator>-repartition` in the upstream part and a source of that topic in the
 * downstream part; the connected parts left are the sub-topologies. A task is one
 * sub-topology × one partition (`<subtopology>_<partition>`); every input of a sub-topology
 * is co-partitioned with the others (they share the task), so their partition counts must be
 * equal. Repartition topics take the partition count of their downstream sub-topology's
 * external inputs if it has any, else the largest count of the upstream sub-topology.
 *
 * Format: node names are copied unchanged (state and changelog names derive from them), so a
 * sub-topology's operators name their stores exactly as the whole app's would. A table and
 * the joins that read it (by table name, not by an edge) always land in one sub-topology.
 *
 * Event time across a repartition topic: the downstream source derives no watermark from its
 * records (noWatermarks); the runtime forwards the upstream tasks' watermarks in control
 * records instead (runtime/kafka-io.ts), as Flink forwards watermarks across a shuffle, so a
 * record is late downstream exactly when it would have been late without the shuffle.
 *
 * Pure: no I/O; the runtime calls resolvePartitions with the counts it read from the cluster.
 */
import { SluiceError } from '../../common/index.js';
import type { SourceSpec } from '../runtime/operators.js';
import { noWatermarks } from '../time/watermarks.js';
import { LogicalGraph, type LogicalNode } from './logical.js';
import { repartitionEdges, Topology } from './physical.js';

export interface SubTopologyInput {
  /** Topic name (= input name for external inputs). */
  readonly topic: string;
  /** A repartition topic written by another sub-topology. */
  readonly internal: boolean;
}

export interface SubTopology {
  readonly id: number;
  readonly graph: LogicalGraph;
  readonly topology: Topology;
  /** Inputs in graph order; the group consumer subscribes to `primary` only. */
  readonly inputs: readonly SubTopologyInput[];
  /** The input whose partition assignment creates the task: a repartition topic if any. */
  readonly primary: string;
  /** Topics written (user outputs and repartition topics). */
  readonly outputs: readonly SubTopologyInput[];
  /** Operator names: stores named after them (see ownsStore) belong to this sub-topology. */
  readonly operatorNames: readonly string[];
  readonly tableNames: readonly string[];
}

export interface RepartitionTopic {
  readonly topic: string;
  readonly from: number;
  readonly to: number;
}

export interface AppPlan {
  readonly applicationId: string;
  readonly subTopologies: readonly SubTopology[];
  readonly repartitionTopics: readonly RepartitionTopic[];
}

export function repartitionTopic(applicationId: string, node: LogicalNode, inputIdx: number): string {
  const suffix = node.inputs.length > 1 ? `-${inputIdx}` : '';
  return `${applicationId}-${node.name}${suffix}-repartition`;
}

/** Cuts the graph at its repartition edges into sub-topologies. */
export function splitTopology(graph: LogicalGraph, applicationId: string): AppPlan {
  const cut = repartitionEdges(graph);
  const n = graph.nodes.length;
  const parent = Array.from({ length: n }, (_, i) => i);
  const find = (x: number): number => {
    while (parent[x] !== x) {
      parent[x] = parent[parent[x]];
      x = parent[x];
    }
    return x;
  };
  const union = (a: number, b: number) => {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
  };
  const tables = new Map<string, number>();
  for (const node of graph.nodes) if (node.kind === 'table') tables.set(node.tableName, node.id);
  for (const node of graph.nodes) {
    node.inputs.forEach((i, idx) => {
      if (!cut.has(`${node.id}:${idx}`)) union(node.id, i.node);
    });
    if (node.kind === 'tableJoin') {
      const t = tables.get(node.tableName);
      if (t === undefined) {
        throw new SluiceError('INVALID_CONFIG', `${node.name} joins unknown table '${node.tableName}'`);
      }
      union(node.id, t);
    }
  }
  // Components in order of their first node; each gets a fresh graph with the same names.
  const roots: number[] = [];
  for (let i = 0; i < n; i++) if (!roots.includes(find(i))) roots.push(find(i));
  const compOf = (id: number) => roots.indexOf(find(id));
  const graphs = roots.map(() => new LogicalGraph());
  const idMap = new Map<number, number>(); // old id → new id in its component graph
  const repartitions: RepartitionTopic[] = [];
  const strategies = new Map<number, SourceSpec>(); // old node id → the source spec upstream of it
  for (const node of graph.nodes) {
    const c = compOf(node.id);
    const g = graphs[c];
    if (node.kind === 'source') strategies.set(node.id, node.spec);
    else {
      const up = node.inputs.map((i) => strategies.get(i.node)).find((s) => s !== undefined);
      if (up !== undefined) strategies.set(node.id, up);
    }
    const inputs = node.inputs.map((i, idx) => {
      if (!cut.has(`${node.id}:${idx}`)) return { node: idMap.get(i.node) as number, port: i.port };
      const topic = repartitionTopic(applicationId, node, idx);
      const from = compOf(i.node);
      graphs[from].add({
        kind: 'sink',
        name: `sink-${topic}`,
        sinkName: topic,
        inputs: [{ node: idMap.get(i.node) as number, port: i.port }],
      });
      repartitions.push({ topic, from, to: c });
      const upstream = strategies.get(i.node);
      const src = g.add({
        kind: 'source',
        name: `source-${topic}`,
        inputs: [],
        spec: {
          name: topic,
          partitions: 1,
          watermark: noWatermarks(),
          idlenessMs: 0,
          maxFutureMs: upstream?.maxFutureMs ?? 86_400_000,
        },
      });
      return { node: src.id, port: 0 };
    });
    const { id: _id, ...rest } = node;
    const copy = g.add({ ...rest, inputs } as Parameters<LogicalGraph['add']>[0]);
    idMap.set(node.id, copy.id);
  }
  const subTopologies = graphs.map((g, id): SubTopology => {
    const inputs = g
      .sources()
      .map((s) => ({ topic: s.spec.name, internal: repartitions.some((r) => r.topic === s.spec.name) }));
    const outputs: SubTopologyInput[] = [];
    for (const node of g.nodes) {
      if (node.kind === 'sink' && !outputs.some((o) => o.topic === node.sinkName)) {
        outputs.push({
          topic: node.sinkName,
          internal: repartitions.some((r) => r.topic === node.sinkName),
        });
      }
    }
    const primary = (inputs.find((i) => i.internal) ?? inputs[0])?.topic;
    if (primary === undefined) {
      throw new SluiceError('INVALID_CONFIG', `sub-topology ${id} has no input (${g.describe()})`);
    }
    return {
      id,
      graph: g,
      topology: new Topology(g),
      inputs,
      primary,
      outputs,
      operatorNames: g.nodes.map((x) => x.name),
      tableNames: g.nodes.flatMap((x) => (x.kind === 'table' ? [x.tableName] : [])),
    };
  });
  return { applicationId, subTopologies, repartitionTopics: repartitions };
}

/** Store names are sanitized like this by the engines (runtime/state.ts, runtime/task.ts). */
export function storeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_');
}

/** Whether a store (by its engine name) belongs to an operator of this sub-topology. */
export function ownsStore(st: SubTopology, store: string): boolean {
  for (const op of st.operatorNames) {
    const s = storeName(op);
    if (store === s || store.startsWith(`${s}.`)) return true;
  }
  return st.tableNames.some((t) => store === storeName(`table:${t}`));
}

/**
 * Partition count per sub-topology (and so per repartition and changelog topic), from the
 * external inputs' counts as they exist on the cluster. Throws NOT_FOUND for a missing input
 * and INVALID_CONFIG naming both topics when co-partitioned inputs differ.
 */
export function resolvePartitions(
  plan: AppPlan,
  existing: ReadonlyMap<string, number>,
): { subTopologies: number[]; topics: Map<string, number> } {
  const topics = new Map<string, number>();
  const counts: number[] = plan.subTopologies.map(() => 0);
  for (const st of plan.subTopologies) {
    let first: string | undefined;
    for (const input of st.inputs) {
      if (input.internal) continue;
      const n = existing.get(input.topic);
      if (n === undefined) {
        throw new SluiceError('NOT_FOUND', `input topic '${input.topic}' does not exist`, {
          details: { topic: input.topic },
        });
      }
      topics.set(input.topic, n);
      if (first === undefined) {
        first = input.topic;
        counts[st.id] = n;
      } else if (counts[st.id] !== n) {
        throw new SluiceError(
          'INVALID_CONFIG',
          `co-partitioned inputs '${first}' (${counts[st.id]} partitions) and '${input.topic}' (${n} partitions) must have the same partition count`,
          { details: { topics: [first, input.topic], partitions: [counts[st.id], n] } },
        );
      }
    }
  }
  // Sub-topologies fed only by repartition topics, in dependency order (a fixpoint: chains of
  // repartitions are short; a cycle cannot occur since graphs are built in topological order).
  for (let round = 0; round < plan.subTopologies.length; round++) {
    for (const st of plan.subTopologies) {
      if (counts[st.id] > 0) continue;
      const upstream = plan.repartitionTopics.filter((r) => r.to === st.id).map((r) => counts[r.from]);
      if (upstream.length > 0 && upstream.every((c) => c > 0)) counts[st.id] = Math.max(...upstream);
    }
  }
  for (const r of plan.repartitionTopics) {
    topics.set(r.topic, counts[r.to]);
    const existingCount = existing.get(r.topic);
    if (existingCount !== undefined && existingCount !== counts[r.to]) {
      throw new SluiceError(
        'INVALID_CONFIG',
        `repartition topic '${r.topic}' has ${existingCount} partitions, the application needs ${counts[r.to]} (inputs changed? reset the application)`,
      );
    }
  }
  return { subTopologies: counts, topics };
}
