// Texts of the roster import page (名册导入).
export const rosterZh = {
  nav: '名册导入', title: '名册导入', intro: '下载模板，在 Excel 中填写后上传。先校验，确认无误再导入；有错误时不会写入任何数据。',
  kind: '名册类型', students: '学生名册', teachers: '教职工名册', template: '下载{name}模板',
  school: '导入到学校', file: '选择文件（.xlsx 或 .csv）', check: '校验', import: '导入', checking: '正在校验…', importing: '正在导入…',
  summary: '共 {rows} 行：错误 {errors} 个，警告 {warnings} 个。', willCreate: '可登记 {n} 人，已在本校登记 {skipped} 人（跳过）。',
  done: '导入完成：已登记 {n} 人，跳过 {skipped} 人。', fixFirst: '请先在文件中改正错误，再重新上传。',
  cols: { severity: '级别', line: '行', column: '列', message: '说明', value: '值' }, error: '错误', warning: '警告', whole: '整个文件',
  pickSchool: '请选择学校',
};
export const rosterEn = {
  nav: 'Roster import', title: 'Roster import', intro: 'Download a template, fill it in Excel and upload it. Check first, then import; a file with errors writes nothing.',
  kind: 'Roster', students: 'Students', teachers: 'Staff', template: 'Download the {name} template',
  school: 'Into school', file: 'Choose a file (.xlsx or .csv)', check: 'Check', import: 'Import', checking: 'Checking…', importing: 'Importing…',
  summary: '{rows} rows: {errors} errors, {warnings} warnings.', willCreate: '{n} people can be registered; {skipped} already at this school (skipped).',
  done: 'Imported: {n} registered, {skipped} skipped.', fixFirst: 'Correct the errors in the file and upload it again.',
  cols: { severity: 'Level', line: 'Line', column: 'Column', message: 'Message', value: 'Value' }, error: 'Error', warning: 'Warning', whole: 'whole file',
  pickSchool: 'Choose a school',
};

export const peopleSearchZh = { label: '查找', hint: '姓名、学籍号或工号', none: '没有与“{q}”匹配的人员' };
export const peopleSearchEn = { label: 'Find', hint: 'Name, student or staff number', none: 'Nobody matches “{q}”' };

export const obsUploadZh = {
  nav: '数据上报', title: '数据上报（表格导入）',
  intro: '选择数据元和单位，上传 Excel 或 CSV 表格：第一行为列名 日期、数值，可选 机构（单位编号，默认为所选单位）、学生、类别。有错误时不写入任何数据。',
  element: '数据元', org: '上报单位', pickElement: '请选择数据元', pickOrg: '请选择单位', file: '选择文件（.xlsx 或 .csv）',
  upload: '上传', uploading: '正在上传…', done: '已写入 {n} 条数据。', summary: '共 {rows} 行：错误 {errors} 个，警告 {warnings} 个。',
  level: { city: '市', district: '区县', school: '学校', grade: '年级', class: '班级' }, reportedAt: '上报层级：{level}',
  nothing: '您没有可上报的数据：管理员可填报所辖机构，班主任和任课教师可填报自己的班级。',
};
export const obsUploadEn = {
  nav: 'Data upload', title: 'Observations from a sheet',
  intro: 'Choose a data element and a node, then upload an Excel or CSV sheet whose first row names the columns 日期/day and 数值/value, optionally 机构/org_id (default: the chosen node), 学生/person_id and 类别/category. A sheet with errors writes nothing.',
  element: 'Data element', org: 'Node', pickElement: 'Choose a data element', pickOrg: 'Choose a node', file: 'Choose a file (.xlsx or .csv)',
  upload: 'Upload', uploading: 'Uploading…', done: '{n} observations written.', summary: '{rows} rows: {errors} errors, {warnings} warnings.',
  level: { city: 'city', district: 'district', school: 'school', grade: 'grade', class: 'class' }, reportedAt: 'Reported at: {level}',
  nothing: 'Nothing for you to report: administrators report for the orgs they administer, head and subject teachers for their own classes.',
};
