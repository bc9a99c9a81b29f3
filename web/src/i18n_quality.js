// Texts of the data-quality page (数据质量): roll-up, findings, runs and the nightly schedule.
export const qualityZh = {
  nav: '数据质量', title: '数据质量', intro: '全市学籍、教职工和班级数据的自动检查：每晚定时检查，也可随时立即检查。',
  up: '返回上级', unit: '单位', total: '合计', findings: '问题数', runNow: '立即检查', running: '正在检查…',
  lastRun: '上次检查：{at}（{origin}，{n} 个问题，用时 {s} 秒）', never: '尚未检查', nextRun: '下次自动检查：{at}',
  noSchedule: '未设置每晚自动检查', ran: '检查完成：共发现 {n} 个问题。',
  origins: { manual: '手动', nightly: '每晚自动', cli: '命令行' },
  list: '问题清单', filter: '检查项', all: '全部检查项', none: '没有发现问题', more: '加载更多', loading: '加载中…',
  check: '检查项', severity: '严重程度', message: '问题说明', object: '待修正记录', where: '所在单位', school: '所属学校',
  severities: { error: '错误', warning: '警告' }, objectTypes: { person: '人员', class: '班级', school: '学校' },
  exportWhat: '问题清单', onlyAdmins: '只有管理员可以发起检查。',
};

export const qualityEn = {
  nav: 'Data quality', title: 'Data quality', intro: 'Automatic checks of the registry: every night, or now on demand.',
  up: 'Up one level', unit: 'Unit', total: 'Total', findings: 'Findings', runNow: 'Check now', running: 'Checking…',
  lastRun: 'Last check: {at} ({origin}, {n} findings, {s} s)', never: 'Not checked yet', nextRun: 'Next nightly check: {at}',
  noSchedule: 'No nightly check configured', ran: 'Check finished: {n} findings.',
  origins: { manual: 'manual', nightly: 'nightly', cli: 'command line' },
  list: 'Findings', filter: 'Check', all: 'All checks', none: 'No findings', more: 'Load more', loading: 'Loading…',
  check: 'Check', severity: 'Severity', message: 'Finding', object: 'Record to fix', where: 'Where', school: 'School',
  severities: { error: 'Error', warning: 'Warning' }, objectTypes: { person: 'Person', class: 'Class', school: 'School' },
  exportWhat: 'the findings', onlyAdmins: 'Only administrators can start a check.',
};
