// Texts of the school calendar (学年学期) page, the top bar's current term and the Excel links.
export const yearsZh = {
  nav: '学年学期', title: '学年学期', list: '学年列表', empty: '尚未设置学年', current: '当前',
  term: '第{n}学期', termNames: { 1: '第一学期', 2: '第二学期' }, yearSuffix: '学年',
  now: '{year} 学年 {term}', from: '开始日期', to: '结束日期',
  create: '新建学年', createBtn: '创建学年', name: '学年名称', nameHint: '格式 YYYY-YYYY，如 2027-2028',
  onlyCity: '只有市级管理员可以新建学年。', created: '已创建学年 {name}。',
  err: {
    required: '请填写此项', date: '请输入有效日期（YYYY-MM-DD）', nameFormat: '格式应为 YYYY-YYYY',
    nameConsecutive: '两个年份须相邻（如 2027-2028）', startYear: '开始日期须在 {y} 年内', endYear: '结束日期须在 {y} 年内',
    startBeforeEnd: '开始日期须早于结束日期', inside: '须在学年的起止日期之内', termOrder: '第二学期须在第一学期结束之后开始',
  },
};

export const yearsEn = {
  nav: 'School years', title: 'School years and terms', list: 'School years', empty: 'No school year yet', current: 'current',
  term: 'Term {n}', termNames: { 1: 'Term 1', 2: 'Term 2' }, yearSuffix: 'school year',
  now: '{year} · {term}', from: 'Start date', to: 'End date',
  create: 'New school year', createBtn: 'Create school year', name: 'Name', nameHint: 'YYYY-YYYY, e.g. 2027-2028',
  onlyCity: 'Only city administrators can create school years.', created: 'School year {name} created.',
  err: {
    required: 'Please fill in this field', date: 'Enter a valid date (YYYY-MM-DD)', nameFormat: 'Use the form YYYY-YYYY',
    nameConsecutive: 'The two years must be consecutive (e.g. 2027-2028)', startYear: 'The start date must be in {y}', endYear: 'The end date must be in {y}',
    startBeforeEnd: 'The start must come before the end', inside: 'Must lie inside the school year', termOrder: 'Term 2 must start after term 1 ends',
  },
};

export const exportZh = { xlsx: '导出 Excel', xlsxLabel: '将{what}导出为 Excel 文件' };
export const exportEn = { xlsx: 'Export Excel', xlsxLabel: 'Export {what} as an Excel file' };
