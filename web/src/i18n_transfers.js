// Texts of the student lifecycle panel (学籍状态) and the transfer pages (学籍异动 · 转学).
export const transfersZh = {
  nav: '学籍异动', navBadge: '{n} 件待审批', title: '学籍异动', detail: '转学详情',
  tabs: { inbox: '待我审批', outbox: '我发起的', all: '全部' },
  empty: '暂无记录', overdue: '已逾期', dueBy: '{d} 前办理', due: '办理期限', steps: '审批环节', trail: '办理记录',
  state: { pending: '审批中', approved: '已办结', rejected: '已驳回', withdrawn: '已撤回' },
  stepState: { waiting: '未开始', pending: '待办理', approved: '已同意', rejected: '已驳回', cancelled: '已终止' },
  step: { to_school: '转入学校发起', to_district: '转入地教育局审核', from_school: '转出学校审核', from_district: '转出地教育局审核', district: '教育局审核' },
  col: { id: '编号', student: '学生', from: '转出', to: '转入', date: '转学日期', state: '状态', current: '当前环节', due: '办理期限' },
  student: '学生', citizenId: '身份证号', studentNo: '学籍号', from: '转出学校', to: '转入学校', date: '转学日期', reason: '转学原因',
  createdBy: '发起人', closedBy: '办结人', closeReason: '驳回/撤回原因', by: '办理人', at: '办理时间', note: '意见',
  approve: '同意', reject: '驳回', withdraw: '撤回申请', rejectReason: '驳回原因（必填）', comment: '审批意见（选填）', withdrawReason: '撤回原因（选填）',
  approved: '已同意。', rejected: '已驳回。', withdrawn: '已撤回。', reasonRequired: '驳回时须填写原因',
  start: '发起转学', startTitle: '发起转学（转入学校）', lookup: '查找学生', lookupBy: '查找方式',
  bySno: '学籍号（G+18位）', byCid: '身份证号', name: '学生姓名', found: '找到学生：{name}，{school} {cls}',
  notFound: '未找到与证件号和姓名相符的学生', toClass: '转入班级', chooseClass: '请选择班级', submit: '提交申请', created: '已提交转学申请 #{id}。',
  onlySchool: '只有学校管理员可以发起转学。', export: '导出 Excel',
  err: {
    required: '请填写此项', sno: '学籍号应为 G 加 18 位身份证号', cid: '身份证号格式或校验位不正确', date: '请输入有效日期（YYYY-MM-DD）',
    lookupFirst: '请先查找并确认学生', reason: '原因不超过 200 字',
  },
};

export const transfersEn = {
  nav: 'Transfers', navBadge: '{n} waiting', title: 'Student transfers', detail: 'Transfer',
  tabs: { inbox: 'Waiting for me', outbox: 'Started by us', all: 'All' },
  empty: 'Nothing here', overdue: 'Overdue', dueBy: 'due {d}', due: 'Due', steps: 'Steps', trail: 'Trail',
  state: { pending: 'In progress', approved: 'Completed', rejected: 'Rejected', withdrawn: 'Withdrawn' },
  stepState: { waiting: 'Waiting', pending: 'To do', approved: 'Approved', rejected: 'Rejected', cancelled: 'Cancelled' },
  step: { to_school: 'Request by the receiving school', to_district: 'Receiving bureau', from_school: 'Sending school', from_district: 'Sending bureau', district: 'Bureau' },
  col: { id: 'No.', student: 'Student', from: 'From', to: 'To', date: 'Date', state: 'State', current: 'Current step', due: 'Due' },
  student: 'Student', citizenId: 'Citizen ID', studentNo: 'Student number', from: 'Sending school', to: 'Receiving school', date: 'Transfer date', reason: 'Reason',
  createdBy: 'Requested by', closedBy: 'Closed by', closeReason: 'Reason given', by: 'By', at: 'When', note: 'Comment',
  approve: 'Approve', reject: 'Reject', withdraw: 'Withdraw', rejectReason: 'Reason (required)', comment: 'Comment (optional)', withdrawReason: 'Reason (optional)',
  approved: 'Approved.', rejected: 'Rejected.', withdrawn: 'Withdrawn.', reasonRequired: 'A rejection needs a reason',
  start: 'New transfer', startTitle: 'Request a transfer into our school', lookup: 'Find student', lookupBy: 'Find by',
  bySno: 'Student number (G + 18)', byCid: 'Citizen ID', name: 'Student name', found: 'Found: {name}, {school} {cls}',
  notFound: 'No student matches this number and name', toClass: 'Class', chooseClass: 'Choose a class', submit: 'Submit request', created: 'Transfer request #{id} submitted.',
  onlySchool: 'Only school administrators can request a transfer.', export: 'Export Excel',
  err: {
    required: 'Please fill in this field', sno: 'G followed by the 18-character citizen ID', cid: 'Not a valid citizen ID (format or check character)', date: 'Enter a valid date (YYYY-MM-DD)',
    lookupFirst: 'Find and confirm the student first', reason: 'At most 200 characters',
  },
};

export const lifecycleZh = {
  title: '学籍状态', current: '当前状态', since: '自', expectedReturn: '预计复学', history: '学籍变动记录', none: '暂无变动记录',
  status: { none: '未在籍', enrolled: '在籍', suspended: '休学', withdrawn: '退学', deceased: '死亡', graduated: '毕业' },
  kind: { admission: '入学', suspension: '休学', return: '复学', withdrawal: '退学', death: '死亡', graduation: '毕业', transfer_out: '转出', transfer_in: '转入' },
  record: '登记学籍变动', kindLabel: '变动类型', date: '日期', reason: '原因', cls: '班级', save: '保存', saved: '已登记。',
  pendingTransfer: '该学生有正在办理的转学申请', by: '登记人', school: '学校',
  err: { required: '请填写此项', date: '请输入有效日期（YYYY-MM-DD）', after: '须晚于变动日期' },
};

export const lifecycleEn = {
  title: 'Student status', current: 'Current status', since: 'since', expectedReturn: 'Expected return', history: 'Status history', none: 'No changes recorded',
  status: { none: 'Not enrolled', enrolled: 'Enrolled', suspended: 'Suspended', withdrawn: 'Withdrawn', deceased: 'Deceased', graduated: 'Graduated' },
  kind: { admission: 'Admission', suspension: 'Suspension', return: 'Return', withdrawal: 'Withdrawal', death: 'Death', graduation: 'Graduation', transfer_out: 'Transferred out', transfer_in: 'Transferred in' },
  record: 'Record a change', kindLabel: 'Change', date: 'Date', reason: 'Reason', cls: 'Class', save: 'Save', saved: 'Recorded.',
  pendingTransfer: 'A transfer of this student is in progress', by: 'Recorded by', school: 'School',
  err: { required: 'Please fill in this field', date: 'Enter a valid date (YYYY-MM-DD)', after: 'Must be after the date' },
};

export const transferErrorsZh = {
  invalid_transition: '学生当前的学籍状态不允许此项变更', transfer_pending: '该学生有正在办理的转学申请', transfer_closed: '该转学申请已结束',
};
export const transferErrorsEn = {
  invalid_transition: 'The student\'s status does not allow this change', transfer_pending: 'A transfer of this student is pending', transfer_closed: 'The transfer is closed',
};
