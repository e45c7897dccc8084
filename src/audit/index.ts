export {
  auditObjects,
  type AuditFinding,
  type AuditOptions,
  type AuditReport,
  type AuditSummary,
} from './report.js';
export { flattenDocument, type InputProblem, type InputObject } from './objects.js';
export {
  defaultInterception,
  interceptionOf,
  NAMESPACE_NAME_LABEL,
  type Interception,
  type NamespaceLabels,
} from './interception.js';
