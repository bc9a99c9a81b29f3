// Interface texts in Simplified Chinese (default) and English, and the persisted language choice.
import { createI18n } from 'vue-i18n';
import { activationZh, activationEn } from './i18n_activation.js';
import {
  securityZh, securityEn, otpZh, otpEn, accountsTotpZh, accountsTotpEn, bindSheetZh, bindSheetEn,
  regCardsZh, regCardsEn, totpErrorsZh, totpErrorsEn,
} from './i18n_security.js';
import { yearsZh, yearsEn, exportZh, exportEn } from './i18n_years.js';
import { onerosterZh, onerosterEn, onerosterErrorsZh, onerosterErrorsEn } from './i18n_oneroster.js';
import { staffZh, staffEn } from './i18n_staff.js';
import { rosterZh, rosterEn, peopleSearchZh, peopleSearchEn, obsUploadZh, obsUploadEn } from './i18n_roster.js';
import { qualityZh, qualityEn } from './i18n_quality.js';
import { brainZh, brainEn } from './i18n_brain.js';
import { schoolsZh, schoolsEn } from './i18n_schools.js';
import {
  transfersZh, transfersEn, lifecycleZh, lifecycleEn, transferErrorsZh, transferErrorsEn,
} from './i18n_transfers.js';

const zh = {
  app: { title: '示范市智慧教育平台', subtitle: '教育大脑 · 统一门户', skip: '跳到主要内容', menu: '菜单' },
  nav: { home: '门户首页', orgs: '机构', audit: '审计日志', accounts: '账号管理', logout: '退出登录', lang: 'English', langLabel: '切换到英文', password: '修改密码' },
  login: {
    heading: '用户登录', intro: '使用统一身份账号登录全市教育应用。', login: '账号', password: '密码',
    submit: '登录', submitting: '正在登录…', emptyLogin: '请输入账号', emptyPassword: '请输入密码',
    throttled: '尝试次数过多，请在 {n} 秒后重试。', throttledNoTime: '尝试次数过多，请稍后重试。',
    failed: '登录失败', network: '无法连接服务器，请检查网络后重试。',
  },
  portal: {
    welcome: '欢迎，{name}', account: '账号', roles: '我的角色', scope: '管辖范围', quick: '快捷入口',
    mustChange: '为了账号安全，请先修改初始密码。', changeNow: '立即修改', noRoles: '暂无角色',
    browse: '浏览 {name}', auditOf: '{name} 审计日志', me: '我的档案', accounts: '账号管理',
  },
  roles: {
    city_admin: '市级管理员', district_admin: '区县管理员', school_admin: '学校管理员', head_teacher: '班主任',
    teacher: '教师', student: '学生', parent: '家长', analyst: '分析员',
  },
  kinds: { city: '市', district: '区县', school: '学校', grade: '年级', class: '班级' },
  kindShort: { city: '市', district: '区', school: '校', grade: '年', class: '班' },
  org: {
    title: '机构', children: '下级机构', empty: '没有下级机构', more: '加载更多', loading: '加载中…',
    students: '学生 {n} 人', profile: '学校概况', schoolCode: '学校标识码', runningType: '办学类型',
    stages: '学段', urbanRural: '城乡类型', address: '地址', coords: '坐标', division: '行政区划代码',
    grades: '年级', gradeCode: '年级代码', schoolYear: '学年', closed: '已撤销（{d}）', breadcrumb: '位置',
    open: '进入',
  },
  stages: { preschool: '学前', primary: '小学', junior: '初中', senior: '高中', vocational: '中职', special: '特殊教育', lifelong: '终身教育' },
  urbanRural: { 111: '主城区', 112: '城乡结合区', 121: '镇中心区', 122: '镇乡结合区', 123: '特殊区域', 210: '乡中心区', 220: '村庄' },
  klass: { students: '学生名单', teachers: '任课教师', none: '暂无' },
  person: {
    title: '人员档案', name: '姓名', sex: '性别', birth: '出生日期', citizenId: '身份证号', studentNo: '学籍号',
    staffNo: '教师工号', phone: '电话', org: '所属机构', kind: '类别', reveal: '显示完整身份证号',
    masked: '已脱敏', revealNote: '查看完整身份证号将记入审计日志。', enrolments: '就读记录', posts: '任职记录',
    guardians: '监护人', class: '班级', school: '学校', titleCol: '职务', subjects: '学科', start: '开始日期',
    end: '结束日期', current: '至今', relation: '关系', none: '无记录',
  },
  sex: { male: '男', female: '女', unknown: '未知' },
  personKind: { student: '学生', teacher: '教师', parent: '家长', staff: '职工' },
  audit: {
    title: '审计日志', org: '机构', at: '时间', login: '账号', addr: '来源地址', action: '操作', object: '对象',
    change: '变更', empty: '暂无审计记录', noAccess: '只有管理员可以查看审计日志。',
  },
  password: {
    title: '修改密码', old: '当前密码', new: '新密码', confirm: '确认新密码', submit: '保存',
    mismatch: '两次输入的新密码不一致', done: '密码已修改。', empty: '请填写此项',
  },
  stats: { title: '统计概览', schools: '学校数', classes: '班级数', students: '学生数', teachers: '教师数', oversized: '大班额班级数' },
  accounts: {
    title: '账号管理', noAccess: '只有管理员可以管理账号。', search: '按账号搜索', searchHint: '输入账号的一部分', searchBtn: '搜索',
    new: '新建账号', create: '创建账号', login: '账号', name: '姓名', initialPassword: '初始密码', role: '角色', org: '所属机构',
    orgBelow: '下级机构（可选）', chooseOrg: '请选择机构', stopHere: '（就选上一级）', mustChange: '首次登录须修改密码',
    mustChangeShort: '待改密码', required: '请填写此项', loginRule: '3–64 位字母、数字或 . _ -', orgEmpty: '请选择机构',
    status: '状态', actions: '操作', manage: '管理', active: '正常', disabled: '已停用', empty: '没有符合条件的账号',
    createdAt: '创建于', notManaged: '该账号有不在您管辖范围内的角色，您只能查看。', roles: '角色', remove: '移除',
    addRole: '添加角色', add: '添加', resetPassword: '重置密码', newPassword: '新密码', reset: '重置密码',
    resetNote: '重置后该账号的所有登录会话立即失效。', nameAndStatus: '姓名与状态', rename: '修改姓名',
    disable: '停用账号', enable: '启用账号', disableNote: '停用后该账号立即退出登录且无法再登录。', enableNote: '启用后该账号可以重新登录。',
    created: '已创建账号 {login}。', renamed: '姓名已修改。', disabledDone: '账号已停用。', enabledDone: '账号已启用。',
    resetDone: '密码已重置。', roleAdded: '角色已添加。', roleRemoved: '角色已移除。', passwordEmpty: '请输入新密码',
  },
  notFound: { title: '页面不存在', text: '您访问的页面不存在，或您没有权限查看。', home: '返回首页' },
  errors: {
    unauthenticated: '账号或密码错误', bad_credentials: '账号或密码错误', throttled: '尝试次数过多，请稍后重试。',
    forbidden: '没有权限执行此操作', not_found: '资源不存在', csrf: '页面已过期，请刷新后重试', internal: '服务器内部错误',
    network: '无法连接服务器，请检查网络后重试。',
  },
  common: { error: '出错了：{msg}', retry: '重试', back: '返回', loading: '加载中…' },
};

const en = {
  app: { title: 'Demo City Smart Education Platform', subtitle: 'Education Brain · Unified Portal', skip: 'Skip to main content', menu: 'Menu' },
  nav: { home: 'Home', orgs: 'Organisations', audit: 'Audit log', accounts: 'Accounts', logout: 'Log out', lang: '中文', langLabel: 'Switch to Chinese', password: 'Change password' },
  login: {
    heading: 'Sign in', intro: 'One account for every education app of the city.', login: 'Account', password: 'Password',
    submit: 'Sign in', submitting: 'Signing in…', emptyLogin: 'Please enter your account', emptyPassword: 'Please enter your password',
    throttled: 'Too many attempts. Try again in {n} seconds.', throttledNoTime: 'Too many attempts. Try again later.',
    failed: 'Sign-in failed', network: 'Cannot reach the server. Check the network and try again.',
  },
  portal: {
    welcome: 'Welcome, {name}', account: 'Account', roles: 'My roles', scope: 'Scope', quick: 'Quick links',
    mustChange: 'For your account\'s safety, please change your initial password first.', changeNow: 'Change now', noRoles: 'No roles',
    browse: 'Browse {name}', auditOf: 'Audit log of {name}', me: 'My record', accounts: 'Manage accounts',
  },
  roles: {
    city_admin: 'City administrator', district_admin: 'District administrator', school_admin: 'School administrator',
    head_teacher: 'Head teacher', teacher: 'Teacher', student: 'Student', parent: 'Parent', analyst: 'Analyst',
  },
  kinds: { city: 'City', district: 'District', school: 'School', grade: 'Grade', class: 'Class' },
  kindShort: { city: 'C', district: 'D', school: 'S', grade: 'G', class: 'CL' },
  org: {
    title: 'Organisations', children: 'Sub-units', empty: 'No sub-units', more: 'Load more', loading: 'Loading…',
    students: '{n} students', profile: 'School profile', schoolCode: 'School code', runningType: 'Running type',
    stages: 'Stages', urbanRural: 'Urban/rural type', address: 'Address', coords: 'Coordinates', division: 'Division code',
    grades: 'Grades', gradeCode: 'Grade code', schoolYear: 'School year', closed: 'Closed ({d})', breadcrumb: 'Location',
    open: 'Open',
  },
  stages: { preschool: 'Preschool', primary: 'Primary', junior: 'Junior secondary', senior: 'Senior secondary', vocational: 'Vocational', special: 'Special education', lifelong: 'Lifelong' },
  urbanRural: { 111: 'Main urban area', 112: 'Urban-rural fringe', 121: 'Town centre', 122: 'Town-village fringe', 123: 'Special area', 210: 'Township centre', 220: 'Village' },
  klass: { students: 'Students', teachers: 'Teachers', none: 'None' },
  person: {
    title: 'Person record', name: 'Name', sex: 'Sex', birth: 'Date of birth', citizenId: 'Citizen ID', studentNo: 'Student number',
    staffNo: 'Staff number', phone: 'Phone', org: 'Organisation', kind: 'Kind', reveal: 'Show full citizen ID',
    masked: 'masked', revealNote: 'Viewing a full citizen ID is recorded in the audit log.', enrolments: 'Enrolments', posts: 'Posts',
    guardians: 'Guardians', class: 'Class', school: 'School', titleCol: 'Title', subjects: 'Subjects', start: 'Start',
    end: 'End', current: 'current', relation: 'Relation', none: 'No records',
  },
  sex: { male: 'Male', female: 'Female', unknown: 'Unknown' },
  personKind: { student: 'Student', teacher: 'Teacher', parent: 'Parent', staff: 'Staff' },
  audit: {
    title: 'Audit log', org: 'Organisation', at: 'Time', login: 'Account', addr: 'Client address', action: 'Action', object: 'Object',
    change: 'Change', empty: 'No audit entries', noAccess: 'Only administrators can read the audit log.',
  },
  password: {
    title: 'Change password', old: 'Current password', new: 'New password', confirm: 'Confirm new password', submit: 'Save',
    mismatch: 'The new passwords do not match', done: 'Your password has been changed.', empty: 'Please fill in this field',
  },
  stats: { title: 'Overview', schools: 'Schools', classes: 'Classes', students: 'Students', teachers: 'Teachers', oversized: 'Oversized classes' },
  accounts: {
    title: 'Accounts', noAccess: 'Only administrators can manage accounts.', search: 'Search by account', searchHint: 'Part of the account name', searchBtn: 'Search',
    new: 'New account', create: 'Create account', login: 'Account', name: 'Name', initialPassword: 'Initial password', role: 'Role', org: 'Organisation',
    orgBelow: 'Sub-unit (optional)', chooseOrg: 'Choose an organisation', stopHere: '(the level above)', mustChange: 'Must change the password at next sign-in',
    mustChangeShort: 'Password change due', required: 'Please fill in this field', loginRule: '3–64 letters, digits or . _ -', orgEmpty: 'Please choose an organisation',
    status: 'Status', actions: 'Actions', manage: 'Manage', active: 'Active', disabled: 'Disabled', empty: 'No matching accounts',
    createdAt: 'Created', notManaged: 'This account has roles outside your scope; you can only view it.', roles: 'Roles', remove: 'Remove',
    addRole: 'Add a role', add: 'Add', resetPassword: 'Reset password', newPassword: 'New password', reset: 'Reset password',
    resetNote: 'Every session of the account ends at once.', nameAndStatus: 'Name and status', rename: 'Rename',
    disable: 'Disable account', enable: 'Enable account', disableNote: 'The account is signed out at once and cannot sign in.', enableNote: 'The account can sign in again.',
    created: 'Account {login} created.', renamed: 'Name changed.', disabledDone: 'Account disabled.', enabledDone: 'Account enabled.',
    resetDone: 'Password reset.', roleAdded: 'Role added.', roleRemoved: 'Role removed.', passwordEmpty: 'Please enter the new password',
  },
  notFound: { title: 'Page not found', text: 'This page does not exist, or you may not view it.', home: 'Back to home' },
  errors: {
    unauthenticated: 'Wrong account or password', bad_credentials: 'Wrong account or password', throttled: 'Too many attempts. Try again later.',
    forbidden: 'You may not do this', not_found: 'Not found', csrf: 'The page has expired; reload and try again', internal: 'Internal server error',
    network: 'Cannot reach the server. Check the network and try again.',
  },
  common: { error: 'Something went wrong: {msg}', retry: 'Retry', back: 'Back', loading: 'Loading…' },
};

zh.activation = activationZh;
en.activation = activationEn;
zh.security = securityZh;
en.security = securityEn;
zh.otp = otpZh;
en.otp = otpEn;
zh.bindSheet = bindSheetZh;
en.bindSheet = bindSheetEn;
zh.regCards = regCardsZh;
en.regCards = regCardsEn;
zh.years = yearsZh;
en.years = yearsEn;
zh.oneroster = onerosterZh;
en.oneroster = onerosterEn;
Object.assign(zh.errors, onerosterErrorsZh);
Object.assign(en.errors, onerosterErrorsEn);
zh.staff = staffZh;
en.staff = staffEn;
zh.roster = rosterZh;
en.roster = rosterEn;
zh.peopleSearch = peopleSearchZh;
en.peopleSearch = peopleSearchEn;
zh.obsUpload = obsUploadZh;
en.obsUpload = obsUploadEn;
zh.schools = schoolsZh;
en.schools = schoolsEn;
Object.assign(zh.errors, schoolsZh.errors);
Object.assign(en.errors, schoolsEn.errors);
zh.quality = qualityZh;
en.quality = qualityEn;
zh.brain = brainZh;
en.brain = brainEn;
zh.export = exportZh;
en.export = exportEn;
zh.transfers = transfersZh;
en.transfers = transfersEn;
zh.lifecycle = lifecycleZh;
en.lifecycle = lifecycleEn;
Object.assign(zh.errors, transferErrorsZh);
Object.assign(en.errors, transferErrorsEn);
Object.assign(zh.accounts, accountsTotpZh);
Object.assign(en.accounts, accountsTotpEn);
Object.assign(zh.errors, totpErrorsZh);
Object.assign(en.errors, totpErrorsEn);

function initialLocale() {
  try {
    const saved = localStorage.getItem('eb_lang');
    if (saved === 'en' || saved === 'zh') return saved;
  } catch (e) {
    /* Storage may be disabled; fall back to the default. */
  }
  return 'zh';
}

export const i18n = createI18n({
  legacy: false,
  locale: initialLocale(),
  fallbackLocale: 'zh',
  messages: { zh, en },
});

/* Applies a language everywhere: interface, <html lang>, localStorage and the eb_lang cookie
 * that makes the server answer error messages in the same language. */
export function setLocale(lang) {
  const l = lang === 'en' ? 'en' : 'zh';
  i18n.global.locale.value = l;
  document.documentElement.lang = l === 'en' ? 'en' : 'zh-CN';
  document.title = i18n.global.t('app.title');
  try {
    localStorage.setItem('eb_lang', l);
  } catch (e) {
    /* Without storage the cookie still carries the choice for this session. */
  }
  document.cookie = `eb_lang=${l}; path=/; max-age=31536000; SameSite=Lax`;
}

/* The server's message for an error, or ours when it sent none (or only repeated the code). */
export function errorText(e) {
  const { t, te } = i18n.global;
  if (e && e.message && e.message !== e.code && !/^HTTP \d+$/.test(e.message)) return e.message;
  if (e && e.code && te('errors.' + e.code)) return t('errors.' + e.code);
  return (e && e.message) || t('errors.internal');
}
