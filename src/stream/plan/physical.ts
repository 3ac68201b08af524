/**
 * Logical graph → physical topology.
 *
 * Decisions: (1) operator chaining — a run of stateless stages (map, filter, flatMap, keyBy)
 * where each stage is the only consumer of the previous one fuses into one ChainOperator, so a
 * batch crosses the run in one call; a run right behind a source fuses into the source itself
 * (up to the first flatMap), so timestamps and stages are one loop; (2) key-changing boundaries — a keyed stateful operator
 * downstream of a keyBy is marked `repartition`, where issue 7 inserts the
 * `<app>-<operator>-repartition` topic; inside one task the key is already on the record.
 *
 * A Topology is immutable and builds fresh operator instances per task (createOperators), so
 * one task per input partition is a matter of calling it once per partition.
 */
import { SluiceError } from '../../common/index.js';
import type { Sink } from '../runtime/io.js';
import { connect, type Operator } from '../runtime/operator.js';
import type { StageSpec } from '../runtime/operators.js';
import {
  AsyncOperator,
  BranchOperator,
  ChainOperator,
  IntervalJoinOperator,
  ProcessOperator,
  SinkOperator,
  SourceOperator,
  StreamTableJoinOperator,
  TableOperator,
  UnionOperator,
} from '../runtime/operators.js';
import { WindowJoinOperator } from '../window/join-operator.js';
import { PaneWindowOperator } from '../window/pane-operator.js';
import { SessionWindowOperator } from '../window/session-operator.js';
import { TriggeredWindowOperator } from '../window/triggered-operator.js';
import type { InputRef, LogicalGraph, LogicalNode } from './logical.js';

export interface PhysicalNode {
  readonly name: string;
  /** Logical nodes fused into this operator (one unless chained). */
  readonly logical: readonly LogicalNode[];
  readonly inputs: readonly InputRef[]; // node = physical index
  /** A keyed stateful operator behind a key change: needs a repartition topic across tasks. */
  readonly repartition: boolean;
}

export interface TaskOperators {
  readonly operators: Operator[];
  readonly sources: Map<string, SourceOperator>;
  readonly sinks: Map<string, SinkOperator>;
}

const STATEFUL_KEYED = new Set(['process', 'window', 'tableJoin', 'intervalJoin', 'windowJoin', 'table']);

/**
 * The key-changing edges of a graph: `${node id}:${input index}` for every input of a keyed
 * stateful operator that arrives behind a keyBy (and only stateless stages since). Across
 * tasks such an edge goes through a `<app>-<operator>-repartition` topic (subtopology.ts);
 * inside one task (the test driver) it is a plain edge and the node is marked `repartition`.
 */
export function repartitionEdges(graph: LogicalGraph): Set<string> {
  const keyChanged = new Map<number, boolean>();
  const edges = new Set<string>();
  for (const n of graph.nodes) {
    const upstreamChanged = n.inputs.some((i) => keyChanged.get(i.node) === true);
    const changes = n.kind === 'stage' && n.stage.kind === 'keyBy';
    keyChanged.set(n.id, (upstreamChanged || changes) && !STATEFUL_KEYED.has(n.kind));
    if (STATEFUL_KEYED.has(n.kind)) {
      n.inputs.forEach((i, idx) => {
        if (keyChanged.get(i.node) === true) edges.add(`${n.id}:${idx}`);
      });
    }
  }
  return edges;
}

export class Topology {
  readonly nodes: PhysicalNode[] = [];
  private readonly logicalToPhysical = new Map<number, number>();

  constructor(readonly graph: LogicalGraph) {
    const g = graph;
    const cut = repartitionEdges(g);
    for (const n of g.nodes) {
      const upstreamChanged = n.inputs.some((_, idx) => cut.has(`${n.id}:${idx}`));
      const prev = n.inputs.length === 1 ? g.nodes[n.inputs[0].node] : undefined;
      const prevPhysical =
        prev === undefined ? undefined : this.nodes[this.logicalToPhysical.get(prev.id) as number];
      // Stateless stages chain onto a chain, or onto their source (one generated loop from
      // timestamp extraction to the last stage) — except flatMap, which a source cannot fuse.
      const intoSource = prevPhysical?.logical[0].kind === 'source';
      if (
        n.kind === 'stage' &&
        prev !== undefined &&
        (prev.kind === 'stage' || prev.kind === 'source') &&
        !(intoSource && n.stage.kind === 'flatMap') &&
        n.inputs[0].port === 0 &&
        g.consumers(prev.id, 0).length === 1
      ) {
        const pIdx = this.logicalToPhysical.get(prev.id) as number;
        const existing = this.nodes[pIdx];
        this.nodes[pIdx] = {
          ...existing,
          name: `${existing.name}+${n.name}`,
          logical: [...existing.logical, n],
        };
        this.logicalToPhysical.set(n.id, pIdx);
        continue;
      }
      const inputs = n.inputs.map((i) => ({
        node: this.logicalToPhysical.get(i.node) as number,
        port: i.port,
      }));
      this.logicalToPhysical.set(n.id, this.nodes.length);
      this.nodes.push({
        name: n.name,
        logical: [n],
        inputs,
        repartition: STATEFUL_KEYED.has(n.kind) && upstreamChanged,
      });
    }
  }

  /** Fresh operator instances for one task, wired. */
  createOperators(sinkFor: (name: string) => Sink): TaskOperators {
    const ops: Operator[] = [];
    const sources = new Map<string, SourceOperator>();
    const sinks = new Map<string, SinkOperator>();
    for (const p of this.nodes) {
      const op = this.instantiate(p, sinkFor);
      if (op instanceof SourceOperator) sources.set(op.spec.name, op);
      if (op instanceof SinkOperator) sinks.set(op.sink.name, op);
      p.inputs.forEach((ref, idx) => {
        connect(ops[ref.node], ref.port, op, idx);
      });
      ops.push(op);
    }
    return { operators: ops, sources, sinks };
  }

  private instantiate(p: PhysicalNode, sinkFor: (name: string) => Sink): Operator {
    const n = p.logical[0];
    switch (n.kind) {
      case 'source':
        return new SourceOperator(
          n.spec,
          p.logical.slice(1).map((l) => (l as LogicalNode & { stage: StageSpec }).stage),
        );
      case 'stage':
        return new ChainOperator(
          p.logical.map((l) => l.name).join('+'),
          p.logical.map((l) => (l as LogicalNode & { stage: StageSpec }).stage),
        );
      case 'union':
        return new UnionOperator(n.name, n.inputs.length);
      case 'branch':
        return new BranchOperator(n.name, n.predicates);
      case 'process':
        return new ProcessOperator(n.name, n.fn);
      case 'window': {
        const a = n.assigner;
        if (n.trigger !== undefined) {
          if (n.earlyEveryMs !== undefined) {
            throw new SluiceError(
              'INVALID_CONFIG',
              `${n.name}: use either a trigger or earlyEveryMs, not both`,
            );
          }
          if (a.kind !== 'tumbling' && a.kind !== 'global') {
            throw new SluiceError(
              'UNSUPPORTED',
              `custom triggers are supported on tumbling and global windows, not ${a.kind}`,
            );
          }
          return new TriggeredWindowOperator(n.name, a, n.agg, n.trigger, n.allowedLateness);
        }
        if (a.kind === 'session') {
          return new SessionWindowOperator(n.name, a, n.agg, n.allowedLateness, n.earlyEveryMs);
        }
        if (a.kind === 'global') {
          throw new SluiceError('INVALID_CONFIG', `${n.name}: a global window needs a trigger`);
        }
        return new PaneWindowOperator(
          n.name,
          a,
          n.agg,
          n.allowedLateness,
          n.earlyEveryMs,
          n.keySerde,
          n.accumulatorSerde,
        );
      }
      case 'table':
        return new TableOperator(n.name, n.tableName);
      case 'tableJoin':
        return new StreamTableJoinOperator(n.name, n.tableName, n.joiner, n.left);
      case 'intervalJoin':
        return new IntervalJoinOperator(n.name, n.lowerMs, n.upperMs, n.joiner);
      case 'windowJoin':
        return new WindowJoinOperator(n.name, n.assigner, n.joiner);
      case 'async':
        return new AsyncOperator(n.name, n.fn, n.options);
      case 'sink':
        return new SinkOperator(n.name, sinkFor(n.sinkName), n.serializer);
    }
  }

  describe(): string {
    return this.nodes
      .map((p) => {
        const ins = p.inputs.map((i) => this.nodes[i.node].name).join(', ');
        return `${p.name}${p.repartition ? ' [repartition]' : ''}${ins ? ` <- ${ins}` : ''}`;
      })
      .join('\n');
  }
}
