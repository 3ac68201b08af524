/**
 * The logical graph: what the DSL records, before any physical decision.
 *
 * Format: nodes in creation order (which is a topological order: a node only references
 * earlier nodes); an input is (node id, output port). Node names are unique and stable
 * (`<kind>-<id>` unless the user named it) because state, changelog and repartition topic
 * names derive from them.
 */
import type { AsyncOptions, ProcessFunction, SourceSpec, StageSpec } from '../runtime/operators.js';
import type { Serde } from '../state/index.js';
import type { AggregateFunction } from '../window/aggregate.js';
import type { SlidingWindows, TumblingWindows, WindowAssigner } from '../window/assigners.js';
import type { Trigger } from '../window/triggers.js';

export interface InputRef {
  readonly node: number;
  readonly port: number;
}

interface Base {
  readonly id: number;
  readonly name: string;
  readonly inputs: readonly InputRef[];
}

/* biome-ignore-start lint/suspicious/noExplicitAny: the graph is untyped; the DSL enforces types */
export type LogicalNode =
  | (Base & { kind: 'source'; spec: SourceSpec })
  | (Base & { kind: 'stage'; stage: StageSpec })
  | (Base & { kind: 'union' })
  | (Base & { kind: 'branch'; predicates: ReadonlyArray<(v: any) => boolean> })
  | (Base & { kind: 'process'; fn: ProcessFunction<any, any, any> })
  | (Base & {
      kind: 'window';
      assigner: WindowAssigner;
      agg: AggregateFunction<any, any, any>;
      allowedLateness: number;
      trigger?: Trigger;
      earlyEveryMs?: number;
      keySerde?: Serde<any>;
      accumulatorSerde?: Serde<any>;
    })
  | (Base & { kind: 'table'; tableName: string })
  | (Base & { kind: 'tableJoin'; tableName: string; joiner: (v: any, t: any) => any; left: boolean })
  | (Base & { kind: 'intervalJoin'; lowerMs: number; upperMs: number; joiner: (l: any, r: any) => any })
  | (Base & {
      kind: 'windowJoin';
      assigner: TumblingWindows | SlidingWindows;
      joiner: (l: any, r: any) => any;
    })
  | (Base & { kind: 'async'; fn: (v: any) => Promise<any>; options: AsyncOptions })
  | (Base & { kind: 'sink'; sinkName: string; serializer?: { serialize(v: any): Uint8Array } });
/* biome-ignore-end lint/suspicious/noExplicitAny: end */

export type LogicalKind = LogicalNode['kind'];

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type NewNode = DistributiveOmit<LogicalNode, 'id' | 'name'> & { name?: string };

export class LogicalGraph {
  readonly nodes: LogicalNode[] = [];
  private readonly names = new Set<string>();

  add(node: NewNode): LogicalNode {
    const id = this.nodes.length;
    const name = node.name ?? `${node.kind === 'stage' ? node.stage.kind : node.kind}-${id}`;
    if (this.names.has(name)) throw new Error(`duplicate operator name '${name}'`);
    this.names.add(name);
    const full = { ...node, id, name } as LogicalNode;
    this.nodes.push(full);
    return full;
  }

  /** Consumers of (node, port). */
  consumers(node: number, port = 0): LogicalNode[] {
    return this.nodes.filter((n) => n.inputs.some((i) => i.node === node && i.port === port));
  }

  sources(): Array<LogicalNode & { kind: 'source' }> {
    return this.nodes.filter((n): n is LogicalNode & { kind: 'source' } => n.kind === 'source');
  }

  /** Human-readable plan (like Kafka Streams' TopologyDescription). */
  describe(): string {
    return this.nodes
      .map((n) => {
        const ins = n.inputs
          .map((i) => `${this.nodes[i.node].name}${i.port > 0 ? `:${i.port}` : ''}`)
          .join(', ');
        return `${n.name}${ins ? ` <- ${ins}` : ''}`;
      })
      .join('\n');
  }
}
