// Texts of the OneRoster import wizard (上传 → 校验报告 → 导入结果) and the export button.
export const onerosterZh = {
  nav: 'OneRoster 导入', title: 'OneRoster 数据导入', export: '导出 OneRoster',
  exportLabel: '将{name}导出为 OneRoster 1.1 数据包（.zip，不含身份证号）',
  intro: '上传 OneRoster 1.1 CSV 数据包（.zip）。系统先校验整个数据包：有错误则拒绝，不写入任何数据；只有警告则继续导入。全量（bulk）文件会结束本范围内文件中未列出的记录（保留历史）。',
  steps: { upload: '上传', report: '校验报告', result: '导入结果' },
  org: '导入到', file: 'OneRoster 数据包（.zip）', start: '上传并导入', uploading: '正在上传…',
  uploaded: '已上传 {pct}%', states: { queued: '排队中', validating: '正在校验', writing: '正在写入', done: '已完成', failed: '已拒绝' },
  job: '导入任务 #{id}：{state}', rows: '已处理 {done} / {total} 行',
  summary: '{errors} 个错误，{warnings} 个警告', rejected: '数据包有错误，已拒绝，未写入任何数据。请修正后重新上传。',
  written: '导入完成，数据已写入。', noFindings: '没有发现问题。', reportXlsx: '下载校验报告（Excel）', again: '再导入一个数据包',
  cols: { severity: '级别', file: '文件', line: '行', column: '列', message: '说明' },
  error: '错误', warning: '警告', whole: '整个文件',
  counts: { kind: '类别', created: '新建', updated: '更新', ended: '结束', unchanged: '未变' },
  kinds: {
    orgs: '机构', years: '学年', grades: '年级', classes: '班级', students: '学生', teachers: '教师', parents: '家长',
    staff: '职工', posts: '任职', enrolments: '在籍', teaching: '任课', guardians: '监护关系',
  },
  pickFile: '请选择 .zip 文件', notZip: '请选择 .zip 文件（OneRoster 数据包）',
};

export const onerosterEn = {
  nav: 'OneRoster import', title: 'OneRoster import', export: 'Export OneRoster',
  exportLabel: 'Export {name} as a OneRoster 1.1 package (.zip, no citizen ID numbers)',
  intro: 'Upload a OneRoster 1.1 CSV package (.zip). The whole package is checked first: any error rejects it and nothing is written; warnings are listed and the import goes on. Bulk files end what they no longer list in this scope (history is kept).',
  steps: { upload: 'Upload', report: 'Validation report', result: 'Result' },
  org: 'Import into', file: 'OneRoster package (.zip)', start: 'Upload and import', uploading: 'Uploading…',
  uploaded: 'Uploaded {pct}%', states: { queued: 'Queued', validating: 'Validating', writing: 'Writing', done: 'Done', failed: 'Rejected' },
  job: 'Import #{id}: {state}', rows: '{done} of {total} rows',
  summary: '{errors} errors, {warnings} warnings', rejected: 'The package has errors: it was rejected and nothing was written. Fix them and upload it again.',
  written: 'Imported: the data was written.', noFindings: 'No findings.', reportXlsx: 'Download the report (Excel)', again: 'Import another package',
  cols: { severity: 'Severity', file: 'File', line: 'Line', column: 'Column', message: 'Message' },
  error: 'Error', warning: 'Warning', whole: 'whole file',
  counts: { kind: 'Kind', created: 'Created', updated: 'Updated', ended: 'Ended', unchanged: 'Unchanged' },
  kinds: {
    orgs: 'Orgs', years: 'School years', grades: 'Grades', classes: 'Classes', students: 'Students', teachers: 'Teachers',
    parents: 'Parents', staff: 'Staff', posts: 'Posts', enrolments: 'Enrolments', teaching: 'Teaching', guardians: 'Guardians',
  },
  pickFile: 'Choose a .zip file', notZip: 'Choose a .zip file (a OneRoster package)',
};

export const onerosterErrorsZh = { not_a_zip: '请上传 OneRoster 数据包（.zip 文件）' };
export const onerosterErrorsEn = { not_a_zip: 'Upload a OneRoster package (a .zip file)' };
