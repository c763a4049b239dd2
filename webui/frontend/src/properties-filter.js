// The properties panel offers only what the engine reads (engine/definitions/model.py, lint.py,
// SpiffWorkflow's CamundaParser). Camunda 7 engine features that nothing here executes -- listeners,
// async continuations, job execution, external tasks, connectors, input/output and call-activity variable
// mappings, generated form fields, history cleanup, tasklist flags, candidate users/assignee -- are hidden,
// so an owner cannot set something that would silently do nothing.

const HIDDEN_GROUPS = new Set([
  'CamundaPlatform__AsynchronousContinuations',
  'CamundaPlatform__JobExecution',
  'CamundaPlatform__ExecutionListener',
  'CamundaPlatform__TaskListener',
  'CamundaPlatform__ExternalTask',
  'CamundaPlatform__FieldInjection',
  'CamundaPlatform__ConnectorInput',
  'CamundaPlatform__ConnectorOutput',
  'CamundaPlatform__Input',
  'CamundaPlatform__Output',
  'CamundaPlatform__InMapping',
  'CamundaPlatform__OutMapping',
  'CamundaPlatform__InMappingPropagation',
  'CamundaPlatform__OutMappingPropagation',
  'CamundaPlatform__HistoryCleanup',
  'CamundaPlatform__Tasklist',
  'CamundaPlatform__BusinessKey',
  'CamundaPlatform__FormData',
  'CamundaPlatform__StartInitiator',
  'CamundaPlatform__Errors',
  'CamundaPlatform__ProcessVariables'
]);

// groups of which only some entries mean something to the engine: group id -> entry ids kept
const KEPT_ENTRIES = {
  CamundaPlatform__UserAssignment: ['dueDate'], // lanes decide who works a task (access.py)
  CamundaPlatform__CandidateStarter: ['candidateStarterGroups'],
  CamundaPlatform__CallActivity: ['calledElementType', 'calledElement'],
  CamundaPlatform__Implementation: ['implementationType', 'decisionRef'] // a business rule task's DMN table
};

// single entries the Camunda provider adds to shared groups (general, multi-instance ...)
const HIDDEN_ENTRY = /asynchronous|exclusive|retryTimeCycle|jobPriority|taskPriority|versionTag|historyTimeToLive|isStartableInTasklist|failedJobRetryTimeCycle/i;

/** Only a business rule task has an implementation the engine runs (its DMN table). */
function implementationGroupShown(element) {
  return element && element.type === 'bpmn:BusinessRuleTask';
}

export function filterGroups(element, groups) {
  return groups
    .filter((group) => !HIDDEN_GROUPS.has(group.id))
    .filter((group) => group.id !== 'CamundaPlatform__Implementation' || implementationGroupShown(element))
    .map((group) => {
      if (!group.entries) { return group; } // a list group (extension properties): items, not entries
      const kept = KEPT_ENTRIES[group.id];
      const entries = group.entries.filter((entry) => (kept ? kept.includes(entry.id) : !HIDDEN_ENTRY.test(entry.id || '')));
      return entries.length === group.entries.length ? group : { ...group, entries };
    })
    .filter((group) => !group.entries || group.entries.length > 0);
}

const LOWEST_PRIORITY = 1; // after the BPMN (1000) and Camunda 7 (500) providers

function SupportedPropertiesProvider(propertiesPanel) {
  propertiesPanel.registerProvider(LOWEST_PRIORITY, this);
}

SupportedPropertiesProvider.$inject = ['propertiesPanel'];

SupportedPropertiesProvider.prototype.getGroups = function (element) {
  return (groups) => filterGroups(element, groups);
};

export default {
  __init__: ['supportedPropertiesProvider'],
  supportedPropertiesProvider: ['type', SupportedPropertiesProvider]
};
