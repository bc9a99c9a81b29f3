// Texts of 班级管理 (classes), the school actions of the org page (close, merge, teaching points)
// and the 升级向导 (year-end promotion wizard).
export const schoolsZh = {
  nav: '班级管理', navPromotion: '升级向导',
  classes: {
    title: '班级管理', year: '学年', grade: '年级', allGrades: '全部年级', search: '搜索班级', searchHint: '输入班级名称的一部分',
    name: '班级名称', size: '学生数', head: '班主任', teachers: '任课教师', actions: '操作', none: '—', empty: '没有符合条件的班级',
    flag: { large_class: '大班额', oversized_class: '超大班额' }, edit: '编辑', setHead: '指定班主任', count: '共 {n} 个班级',
    create: '新建班级', save: '保存', cancel: '取消', formTitleNew: '新建班级', formTitleEdit: '编辑班级 {name}',
    created: '已创建班级 {name}。', saved: '已保存班级 {name}。', schoolYearLabel: '学年（起始年份）',
    headTitle: '指定 {name} 的班主任', headTeacher: '教师', headDate: '生效日期', headSubject: '任教科目（可选）',
    headSaved: '已将 {name} 设为班主任。', pickTeacher: '请选择教师', noPost: '该教师在本校没有在岗任职',
    promotion: '升级向导', school: '学校',
    err: {
      required: '请填写此项', nameLong: '班级名称不能超过 60 个字', year: '学年须为 2000–2100 之间的年份',
      grade: '请选择年级', date: '请输入有效日期（YYYY-MM-DD）',
    },
  },
  school: {
    title: '学校管理', closedOn: '已于 {d} 撤销', mergedInto: '已于 {d} 并入', central: '所属中心校', points: '教学点',
    pointsEmpty: '没有教学点', noPoints: '—', close: '撤销学校', merge: '合并到其他学校', attach: '添加教学点',
    detach: '移除', date: '日期', target: '并入学校（机构编号）', pointId: '教学点学校（机构编号）',
    confirmClose: '确认撤销“{name}”？撤销后学校保留历史记录，学校标识码不再使用。',
    confirmMerge: '确认将“{name}”于 {d} 并入“{target}”？所有在读学生、班级、教师任职将转入目标学校，此操作不可撤销。',
    confirm: '确认', cancel: '取消', closed: '学校已撤销。', merged: '已合并：{classes} 个班级、{students} 名学生、{posts} 名教职工转入。',
    attached: '已添加教学点 {name}。', classesLink: '班级管理', promotionLink: '升级向导',
  },
  promo: {
    title: '升级向导', intro: '每学年结束时，将本校各班级整体升入下一年级；毕业年级学生毕业离校。确认前可随时撤销。',
    from: '当前学年', to: '升入学年', date: '新学年开始日期', preview: '预览', apply: '执行升级', undo: '撤销升级', confirm: '确认升级',
    step1: '① 预览', step2: '② 执行', step3: '③ 撤销或确认',
    cls: '原班级', grade: '原年级', newGrade: '新年级', newCls: '新班级', students: '学生数', teachers: '教师数',
    graduating: '毕业', summary: '共 {classes} 个班级：{promoted} 名学生升级，{graduated} 名学生毕业。',
    applied: '升级已执行（批次 {id}）。请核对后确认，或撤销恢复原状。', undone: '已撤销，恢复到升级前的状态。',
    confirmed: '升级已确认，不能再撤销。', runs: '升级记录', state: { applied: '待确认', confirmed: '已确认', undone: '已撤销', preview: '预览' },
    confirmApply: '确认执行升级？将为 {to} 学年创建新班级并转入学生。', runId: '批次', empty: '暂无升级记录',
    err: { to: '升入学年须为当前学年的下一年', date: '日期须在 {y} 年内' },
  },
  errors: {
    school_closed: '学校已撤销或已合并', school_has_students: '学校仍有在读学生，不能撤销；请先合并到其他学校',
    already_promoted: '该学年已执行过升级', promotion_confirmed: '升级已确认，不能撤销',
    promotion_changed: '升级后数据已有变动或已撤销，不能撤销',
  },
};

export const schoolsEn = {
  nav: 'Classes', navPromotion: 'Promotion wizard',
  classes: {
    title: 'Classes', year: 'School year', grade: 'Grade', allGrades: 'All grades', search: 'Search classes', searchHint: 'Part of a class name',
    name: 'Class', size: 'Students', head: 'Head teacher', teachers: 'Teachers', actions: 'Actions', none: '—', empty: 'No class matches',
    flag: { large_class: 'Large class', oversized_class: 'Oversized class' }, edit: 'Edit', setHead: 'Set head teacher', count: '{n} classes',
    create: 'New class', save: 'Save', cancel: 'Cancel', formTitleNew: 'New class', formTitleEdit: 'Edit class {name}',
    created: 'Class {name} created.', saved: 'Class {name} saved.', schoolYearLabel: 'School year (first year)',
    headTitle: 'Head teacher of {name}', headTeacher: 'Teacher', headDate: 'From', headSubject: 'Subject (optional)',
    headSaved: '{name} is now the head teacher.', pickTeacher: 'Choose a teacher', noPost: 'This teacher has no current post at the school',
    promotion: 'Promotion wizard', school: 'School',
    err: {
      required: 'Please fill in this field', nameLong: 'At most 60 characters', year: 'A year between 2000 and 2100',
      grade: 'Choose a grade', date: 'Enter a valid date (YYYY-MM-DD)',
    },
  },
  school: {
    title: 'School management', closedOn: 'Closed on {d}', mergedInto: 'Merged on {d} into', central: 'Central school', points: 'Teaching points',
    pointsEmpty: 'No teaching points', noPoints: '—', close: 'Close school', merge: 'Merge into another school', attach: 'Add teaching point',
    detach: 'Remove', date: 'Date', target: 'Into school (org id)', pointId: 'Teaching point school (org id)',
    confirmClose: 'Close "{name}"? Its history stays and its school code is never used again.',
    confirmMerge: 'Merge "{name}" into "{target}" on {d}? Current students, classes and staff move to the target. This cannot be undone.',
    confirm: 'Confirm', cancel: 'Cancel', closed: 'The school is closed.', merged: 'Merged: {classes} classes, {students} students, {posts} staff moved.',
    attached: 'Teaching point {name} added.', classesLink: 'Classes', promotionLink: 'Promotion wizard',
  },
  promo: {
    title: 'Promotion wizard', intro: 'At the end of a school year every class moves up a grade; graduating classes leave. Until confirmed, the promotion can be undone.',
    from: 'Current year', to: 'New year', date: 'First day of the new year', preview: 'Preview', apply: 'Promote', undo: 'Undo', confirm: 'Confirm',
    step1: '1 Preview', step2: '2 Apply', step3: '3 Undo or confirm',
    cls: 'Class', grade: 'Grade', newGrade: 'New grade', newCls: 'New class', students: 'Students', teachers: 'Teachers',
    graduating: 'Graduates', summary: '{classes} classes: {promoted} students move up, {graduated} graduate.',
    applied: 'Promotion applied (run {id}). Check it, then confirm it or undo it.', undone: 'Undone: the state before the promotion is back.',
    confirmed: 'Promotion confirmed; it can no longer be undone.', runs: 'Runs', state: { applied: 'to confirm', confirmed: 'confirmed', undone: 'undone', preview: 'preview' },
    confirmApply: 'Promote now? New classes of {to} are created and the students move.', runId: 'Run', empty: 'No promotion yet',
    err: { to: 'The new year follows the current one', date: 'The date must lie in {y}' },
  },
  errors: {
    school_closed: 'The school is closed or merged', school_has_students: 'The school still has students; merge it instead',
    already_promoted: 'This school year was promoted already', promotion_confirmed: 'The promotion was confirmed and cannot be undone',
    promotion_changed: 'The data changed since the promotion, or it was undone already',
  },
};
