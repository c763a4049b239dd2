// English texts that differ from the libraries' own: hints that would suggest what the engine refuses.
export default {
  'The due date as an EL expression (e.g. ${someDate}) or an ISO date (e.g. 2015-06-26T09:54:00).':
    'An ISO 8601 duration from when the task becomes ready (P1D, PT24H), an ISO date-time '
    + '(2026-06-26T09:00:00+08:00), or an expression over the task\'s data such as working_days_after(1) or '
    + 'local_datetime(visit_date, "09:00", days=-1). ${...} is not accepted.',
  'The follow up date as an EL expression (e.g. ${someDate}) or an ISO date (e.g. 2015-06-26T09:54:00).':
    'An ISO date-time (2026-06-26T09:00:00+08:00).',
  'Embedded or External Task Forms': 'Form key (our forms)',
  'Add custom key-value metadata to this element. Extension properties have no effect on process execution — they can be used to attach configuration visible for other consumers of the BPMN diagram. ':
    'Key-value properties. The engine reads sod (separation of duties), name_en (the English name) and '
    + 'outcome (how the case ends here), among others.',
  'User assignment': 'Due date'
};
