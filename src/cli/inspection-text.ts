/**
 * The human form of a data directory inspection (`raftkv wal inspect DIR`): stamp, segment
 * table, hard state, snapshot files, snapshot markers, then the verdict with what to do. Pure:
 * returns text. Problems are written in capitals (DAMAGED, FOREIGN, NOT) so they stand out.
 */
import type {
  DataDirectoryInspection,
  IdentityInspection,
  InspectionVerdict,
  ReportedError,
  SegmentInspection,
  SnapshotDirectoryInspection,
  StartupWarning,
  WalInspection,
} from '../storage/index.js';
import { formatTable } from './text-table.js';

/** How many of the last snapshot markers are listed; the rest are only counted. */
const MARKERS_LISTED_MAX = 5;

export function formatInspection(report: DataDirectoryInspection): string {
  return [
    `Data directory  ${report.directory}`,
    `Identity stamp  ${describeIdentity(report.identity)}`,
    '',
    ...walLines(report.wal),
    '',
    ...snapshotLines(report.snapshots),
    '',
    ...markerLines(report.wal),
    '',
    ...verdictLines(report.verdict),
  ].join('\n');
}

function describeIdentity(identity: IdentityInspection): string {
  switch (identity.kind) {
    case 'stamped': {
      const removed = identity.isRemoved ? 'REMOVED from the cluster' : 'not removed';
      return `cluster ${identity.clusterId}, node ${identity.nodeId}, incarnation ${identity.incarnation}, ${removed}`;
    }
    case 'missing':
      return 'none (no identity.json)';
    case 'unreadable':
      return `UNREADABLE: ${describeError(identity.error)}`;
  }
}

function range(low: number, high: number): string {
  if (high === 0) return '-';
  return low === high ? `${low}` : `${low}-${high}`;
}

function segmentStatus(segment: SegmentInspection): string {
  switch (segment.status) {
    case 'intact':
      return 'intact';
    case 'tornTail':
      return `torn tail at ${segment.tornTail?.offset}`;
    case 'unwritten':
      return 'header never written';
    case 'foreign':
      return 'FOREIGN';
    case 'damaged':
      return segment.error?.offset === undefined
        ? `DAMAGED (${segment.error?.code})`
        : `DAMAGED at ${segment.error.offset} (${segment.error.code})`;
  }
}

/** The explanation under the table for a segment that is not intact. */
function segmentNote(segment: SegmentInspection): string | undefined {
  switch (segment.status) {
    case 'intact':
      return undefined;
    case 'tornTail':
      return `torn write at offset ${segment.tornTail?.offset} (${segment.tornTail?.detail}); the node truncates it at start`;
    case 'unwritten':
      return `${segment.detail}; the node removes this never-used segment at start`;
    case 'foreign':
      return `segment ${segment.detail}`;
    case 'damaged':
      return segment.error === undefined ? 'damaged' : describeError(segment.error);
  }
}

function walLines(wal: WalInspection): string[] {
  const entries = wal.segments.reduce((total, segment) => total + segment.entryCount, 0);
  const lines = [
    `Write-ahead log  ${wal.directory}: ${count(wal.segments.length, 'segment')}, ${count(entries, 'entry record')}`,
  ];
  if (wal.error !== undefined) lines.push(`  UNREADABLE: ${describeError(wal.error)}`);
  if (wal.segments.length > 0) {
    const rows = wal.segments.map((segment) => [
      `${segment.sequence}`,
      segment.file,
      segment.sizeBytes === undefined ? '?' : `${segment.sizeBytes}`,
      `${segment.recordCount}`,
      `${segment.entryCount}`,
      range(segment.entryIndexMin, segment.entryIndexMax),
      range(segment.entryTermMin, segment.entryTermMax),
      segmentStatus(segment),
    ]);
    lines.push(
      ...formatTable(
        [
          { heading: 'seq', isRightAligned: true },
          { heading: 'file' },
          { heading: 'size', isRightAligned: true },
          { heading: 'records', isRightAligned: true },
          { heading: 'entries', isRightAligned: true },
          { heading: 'index' },
          { heading: 'term' },
          { heading: 'status' },
        ],
        rows,
      ),
    );
  }
  for (const segment of wal.segments) {
    const note = segmentNote(segment);
    if (note !== undefined) lines.push(`  ${segment.file}: ${note}`);
  }
  for (const gap of wal.gaps) {
    const missing =
      gap.missingFrom === gap.missingTo
        ? `segment ${gap.missingFrom} is`
        : `segments ${gap.missingFrom} to ${gap.missingTo} are`;
    lines.push(`  GAP: ${missing} missing`);
  }
  if (wal.otherFiles.length > 0) lines.push(`  Other files: ${wal.otherFiles.join(', ')}`);
  const hardState = wal.lastHardState;
  lines.push(
    '',
    hardState === undefined
      ? 'Hard state  none found'
      : `Hard state  term ${hardState.term}, voted for ${hardState.votedFor === 0 ? 'none' : hardState.votedFor}, commit index ${hardState.commitIndex} (last found in ${hardState.file})`,
  );
  return lines;
}

function snapshotLines(snapshots: SnapshotDirectoryInspection): string[] {
  const lines = [
    `Snapshot files  ${snapshots.directory}: ${count(snapshots.files.length, 'file')}`,
  ];
  if (snapshots.error !== undefined) lines.push(`  UNREADABLE: ${describeError(snapshots.error)}`);
  if (snapshots.files.length > 0) {
    const rows = snapshots.files.map((file) => [
      `${file.index}`,
      `${file.term}`,
      file.file,
      file.sizeBytes === undefined ? '?' : `${file.sizeBytes}`,
      file.isValid
        ? 'valid'
        : `DAMAGED${file.errorCode === undefined ? '' : ` (${file.errorCode})`}: ${file.detail}`,
    ]);
    lines.push(
      ...formatTable(
        [
          { heading: 'index', isRightAligned: true },
          { heading: 'term', isRightAligned: true },
          { heading: 'file' },
          { heading: 'size', isRightAligned: true },
          { heading: 'status' },
        ],
        rows,
      ),
    );
  }
  if (snapshots.otherFiles.length > 0) {
    lines.push(`  Other files: ${snapshots.otherFiles.join(', ')}`);
  }
  return lines;
}

function markerLines(wal: WalInspection): string[] {
  const markers = wal.snapshotMarkers;
  if (markers.length === 0) return ['Snapshot markers  none in the log'];
  const listed = markers.slice(-MARKERS_LISTED_MAX);
  const installed = markers.filter((marker) => marker.isInstalled).length;
  return [
    `Snapshot markers  ${markers.length} in the log (${installed} installed from a leader); last ${listed.length}:`,
    ...formatTable(
      [
        { heading: 'index', isRightAligned: true },
        { heading: 'term', isRightAligned: true },
        { heading: 'kind' },
        { heading: 'segment' },
      ],
      listed.map((marker) => [
        `${marker.index}`,
        `${marker.term}`,
        marker.isInstalled ? 'installed' : 'created',
        marker.file,
      ]),
    ),
  ];
}

function verdictLines(verdict: InspectionVerdict): string[] {
  switch (verdict.kind) {
    case 'empty':
      return [
        'Verdict: no raftkv data here. A node started on this directory would stamp it and join as a',
        'new, empty member. If you expected data, check the path (the node flag --data-dir).',
      ];
    case 'startable': {
      const { hardState } = verdict;
      const lines = [
        'Verdict: a node WOULD START from this directory (judged against its own identity stamp).',
        `  Snapshot index ${verdict.snapshotIndex} term ${verdict.snapshotTerm}, then ${count(verdict.entryCount, 'entry', 'entries')} up to index ${verdict.lastIndex}; term ${hardState.term}, commit index ${hardState.commitIndex}.`,
      ];
      if (verdict.warnings.length > 0) {
        lines.push('  At start it would log these warnings (and make the repairs they name):');
        lines.push(...verdict.warnings.map((warning) => `  - ${describeWarning(warning)}`));
      }
      return lines;
    }
    case 'refused': {
      const { error } = verdict;
      const lines = [
        'Verdict: a node would NOT START from this directory. It stops with:',
        `  ${error.code}: ${error.message}`,
      ];
      if (error.file !== undefined) lines.push(`  File:    ${error.file}`);
      if (error.offset !== undefined) lines.push(`  Offset:  ${error.offset}`);
      if (error.remedy !== undefined) lines.push(`  Remedy:  ${error.remedy}`);
      if (verdict.warnings.length > 0) {
        lines.push('  Before stopping it would log:');
        lines.push(...verdict.warnings.map((warning) => `  - ${describeWarning(warning)}`));
      }
      return lines;
    }
  }
}

function describeError(error: ReportedError): string {
  return `${error.code}: ${error.message}`;
}

function describeWarning(warning: StartupWarning): string {
  const fields = Object.entries(warning.fields).map(([name, value]) => `${name}=${value}`);
  return fields.length === 0 ? warning.message : `${warning.message} (${fields.join(', ')})`;
}

function count(value: number, singular: string, plural = `${singular}s`): string {
  return `${value} ${value === 1 ? singular : plural}`;
}
