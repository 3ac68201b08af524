/**
 * `sluice groups list|describe`: consumer groups on any Kafka cluster.
 *
 * `describe` shows the group's state and protocol, each member (id, client id, host, assigned
 * partitions) and, per partition with a committed offset or an assignment, the committed
 * offset, the log end offset and the lag (log end − committed; '-' when nothing is committed).
 * Output: a readable table, or one JSON document with --json. An unknown group (state Dead,
 * no members and no committed offsets) is exit 1 naming it.
 */
import type { Command } from 'commander';
import { SluiceError } from '../../common/index.js';
import {
  addClientOptions,
  type ClientOptions,
  clientOptions,
  out,
  translateError,
  withAdmin,
} from '../kafka-client.js';

const STATES: Record<number, string> = {
  0: 'Unknown',
  1: 'PreparingRebalance',
  2: 'CompletingRebalance',
  3: 'Stable',
  4: 'Dead',
  5: 'Empty',
};

function stateName(s: unknown): string {
  return typeof s === 'number' ? (STATES[s] ?? String(s)) : String(s);
}

export interface GroupPartition {
  topic: string;
  partition: number;
  committed: number | null;
  logEnd: number;
  lag: number | null;
  member: string | null;
}

export interface GroupReport {
  group: string;
  state: string;
  protocolType: string;
  protocol: string;
  members: {
    memberId: string;
    clientId: string;
    host: string;
    assignment: { topic: string; partition: number }[];
  }[];
  partitions: GroupPartition[];
}

export function registerGroupsCommands(program: Command): void {
  const groups = program
    .command('groups')
    .description('list and describe consumer groups on any Kafka cluster')
    .addHelpText(
      'after',
      `
Examples:
  sluice groups list
  sluice groups describe audit          # members, assignment, committed offsets and lag
  sluice groups describe audit --json`,
    );

  addClientOptions(groups.command('list').description('list consumer groups with their state')).action(
    async (raw: ClientOptions, cmd: Command) => {
      const opts = clientOptions(raw);
      const list = await withAdmin(opts, (admin) =>
        admin.listGroups({ timeout: opts.timeout }).catch((e: unknown) => {
          throw translateError(e, opts, 'list groups');
        }),
      );
      for (const g of [...list.groups].sort((a, b) => a.groupId.localeCompare(b.groupId)))
        out(cmd, `${g.groupId}\t${stateName(g.state)}\t${g.protocolType || '-'}\n`);
    },
  );

  addClientOptions(
    groups
      .command('describe <group>')
      .description('state, members and assignment, committed offsets and lag of a group')
      .option('--json', 'print one JSON document'),
  ).action(async (group: string, raw: ClientOptions & { json?: boolean }, cmd: Command) => {
    const opts = clientOptions(raw);
    const report = await withAdmin(opts, async (admin): Promise<GroupReport> => {
      const described = await admin.describeGroups([group], { timeout: opts.timeout }).catch((e: unknown) => {
        throw translateError(e, opts, `describe group '${group}'`);
      });
      const d = described.groups[0];
      if (d === undefined) throw new SluiceError('NOT_FOUND', `group '${group}' does not exist`);
      if (d.error) throw translateError(d.error, opts, `describe group '${group}'`);
      const committed = await admin
        .fetchOffsets({ groupId: group, timeout: opts.timeout })
        .catch((e: unknown) => {
          throw translateError(e, opts, `fetch offsets of group '${group}'`);
        });
      const members = d.members.map((m) => ({
        memberId: m.memberId,
        clientId: m.clientId,
        host: m.clientHost,
        assignment: (m.assignment?.topicPartitions ?? [])
          .map((tp) => ({ topic: tp.topic, partition: tp.partition }))
          .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition),
      }));
      const owner = new Map<string, string>();
      for (const m of members)
        for (const tp of m.assignment) owner.set(`${tp.topic}/${tp.partition}`, m.memberId);
      const rows = new Map<string, { topic: string; partition: number; committed: number | null }>();
      for (const t of committed)
        for (const p of t.partitions) {
          const offset = Number(p.offset);
          rows.set(`${t.topic}/${p.partition}`, {
            topic: t.topic,
            partition: p.partition,
            committed: offset >= 0 ? offset : null,
          });
        }
      for (const m of members)
        for (const tp of m.assignment)
          if (!rows.has(`${tp.topic}/${tp.partition}`))
            rows.set(`${tp.topic}/${tp.partition}`, { ...tp, committed: null });
      const state = stateName(d.state);
      if ((state === 'Dead' || state === 'Unknown') && members.length === 0 && rows.size === 0)
        throw new SluiceError('NOT_FOUND', `group '${group}' does not exist`);
      const ends = new Map<string, number>();
      for (const topic of new Set([...rows.values()].map((r) => r.topic))) {
        const offsets = await admin
          .fetchTopicOffsets(topic, { timeout: opts.timeout } as never)
          .catch((e: unknown) => {
            throw translateError(e, opts, 'list offsets', topic);
          });
        for (const o of offsets) ends.set(`${topic}/${o.partition}`, Number(o.high));
      }
      const partitions = [...rows.entries()]
        .map(([k, r]): GroupPartition => {
          const logEnd = ends.get(k) ?? 0;
          return {
            ...r,
            logEnd,
            lag: r.committed === null ? null : Math.max(0, logEnd - r.committed),
            member: owner.get(k) ?? null,
          };
        })
        .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
      return { group, state, protocolType: d.protocolType, protocol: d.protocol, members, partitions };
    });
    if (raw.json === true) {
      out(cmd, `${JSON.stringify(report)}\n`);
      return;
    }
    out(
      cmd,
      `group ${report.group}: state ${report.state}, protocol ${report.protocolType || '-'}/${report.protocol || '-'}, ${report.members.length} member(s)\n`,
    );
    for (const m of report.members) {
      const assigned = m.assignment.map((tp) => `${tp.topic}-${tp.partition}`).join(', ') || '(none)';
      out(cmd, `  member ${m.memberId} client ${m.clientId} host ${m.host}: ${assigned}\n`);
    }
    out(cmd, 'topic                partition  committed  log-end  lag      member\n');
    for (const p of report.partitions) {
      out(
        cmd,
        `${p.topic.padEnd(20)} ${String(p.partition).padEnd(10)} ${String(p.committed ?? '-').padEnd(10)} ${String(p.logEnd).padEnd(8)} ${String(p.lag ?? '-').padEnd(8)} ${p.member ?? '-'}\n`,
      );
    }
  });
}
