// Interface texts of the second factor (两步验证), the class binding-code sheet and the
// registration cards of the portal home, in Simplified Chinese (default) and English.
export const securityZh = {
  nav: '账号安全',
  title: '账号安全',
  twoFactor: '两步验证',
  on: '已开启',
  off: '未开启',
  statusIntro: '开启两步验证后，登录时除密码外还须输入手机验证器应用生成的 6 位动态验证码。',
  thisLogin: '本次登录方式：{m}',
  amrPwd: '密码',
  amrPwdOtp: '密码 + 动态验证码',
  mustEnrol: '管理员账号须启用两步验证。管理员可以查看和修改全校乃至全市师生的信息，仅凭密码不足以保护这些数据：请先完成下面的设置，完成后才能继续使用平台的其他功能。',
  requiredNote: '您的账号角色要求启用两步验证，不能关闭。',
  start: '开始设置两步验证',
  step1: '第一步：在手机上安装验证器应用（如 Microsoft Authenticator、Google 身份验证器、FreeOTP 或支持 TOTP 的其他应用）。',
  step2: '第二步：用验证器应用扫描下方二维码。无法扫码时，在应用中选择“手动输入密钥”，输入下面的密钥（基于时间）。',
  step3: '第三步：输入验证器应用当前显示的 6 位验证码，完成设置。',
  qrAlt: '两步验证二维码',
  secret: '密钥',
  code: '6 位验证码',
  codeHint: '验证码每 30 秒更新一次',
  codeInvalid: '请输入 6 位数字验证码',
  confirm: '验证并开启',
  enabledDone: '两步验证已开启。下次登录时请输入验证器应用中的验证码。',
  continue: '继续使用平台',
  disableTitle: '关闭两步验证',
  disableIntro: '关闭后，登录时只需输入密码。请输入当前密码和验证码确认。',
  password: '当前密码',
  passwordEmpty: '请输入当前密码',
  disable: '关闭两步验证',
  disabledDone: '两步验证已关闭。',
  lostPhone: '手机丢失或更换时，请联系本校管理员重置两步验证。',
};
export const securityEn = {
  nav: 'Account security',
  title: 'Account security',
  twoFactor: 'Two-step verification',
  on: 'On',
  off: 'Off',
  statusIntro: 'With two-step verification, signing in asks for a 6-digit code from an authenticator app on your phone as well as your password.',
  thisLogin: 'This session signed in with: {m}',
  amrPwd: 'password',
  amrPwdOtp: 'password + one-time code',
  mustEnrol: 'Administrator accounts must use two-step verification. Administrators can see and change the records of whole schools or the whole city, and a password alone does not protect them enough: please finish the set-up below before using the rest of the platform.',
  requiredNote: 'Your roles require two-step verification; it cannot be turned off.',
  start: 'Set up two-step verification',
  step1: 'Step 1: install an authenticator app on your phone (Microsoft Authenticator, Google Authenticator, FreeOTP or any app supporting TOTP).',
  step2: 'Step 2: scan the QR code below with the app. If you cannot scan, choose "enter a setup key" in the app and type the key below (time based).',
  step3: 'Step 3: enter the 6-digit code the app shows now to finish.',
  qrAlt: 'Two-step verification QR code',
  secret: 'Key',
  code: '6-digit code',
  codeHint: 'The code changes every 30 seconds',
  codeInvalid: 'Please enter the 6-digit code',
  confirm: 'Verify and turn on',
  enabledDone: 'Two-step verification is on. Next time you sign in, enter the code from your authenticator app.',
  continue: 'Continue to the platform',
  disableTitle: 'Turn off two-step verification',
  disableIntro: 'Signing in will ask for your password only. Confirm with your current password and a code.',
  password: 'Current password',
  passwordEmpty: 'Please enter your current password',
  disable: 'Turn off',
  disabledDone: 'Two-step verification is off.',
  lostPhone: 'Lost or replaced your phone? Ask your school administrator to reset your two-step verification.',
};

/* The login page's second step. */
export const otpZh = {
  heading: '两步验证',
  intro: '请打开手机上的验证器应用，输入账号 {login} 当前的 6 位验证码。',
  code: '6 位验证码',
  submit: '验证',
  back: '返回重新输入账号密码',
};
export const otpEn = {
  heading: 'Two-step verification',
  intro: 'Open the authenticator app on your phone and enter the current 6-digit code of {login}.',
  code: '6-digit code',
  submit: 'Verify',
  back: 'Back to account and password',
};

/* The accounts page's reset of someone's second factor. */
export const accountsTotpZh = {
  totpOn: '已开启两步验证',
  totpReset: '重置两步验证',
  totpResetTitle: '两步验证',
  totpResetNote: '用户手机丢失或更换时使用。重置后该账号下次登录只需密码；管理员账号登录后须重新设置两步验证。',
  totpResetConfirm: '确定要重置账号 {login} 的两步验证吗？该账号的验证器将失效。',
  totpResetDone: '已重置两步验证。',
  totpNone: '该账号未开启两步验证，无需重置。',
};
export const accountsTotpEn = {
  totpOn: 'Two-step verification on',
  totpReset: 'Reset two-step verification',
  totpResetTitle: 'Two-step verification',
  totpResetNote: 'For a lost or replaced phone. The account then signs in with its password only; an administrator account must set up two-step verification again after signing in.',
  totpResetConfirm: 'Reset the two-step verification of {login}? Its authenticator stops working.',
  totpResetDone: 'Two-step verification reset.',
  totpNone: 'This account does not use two-step verification; nothing to reset.',
};

/* The class sheets of parent binding codes. */
export const bindSheetZh = {
  title: '按班级打印家长绑定码',
  intro: '为所选学校、年级或班级的每个班级生成全班学生的家长绑定码，每班一页打印后发给家长。绑定码只显示这一次；重新生成后，这些学生之前的绑定码全部失效。',
  issue: '生成全班绑定码',
  confirm: '将为 {name} 的所有在读学生重新生成家长绑定码，之前发放的绑定码将全部失效。确定继续？',
  issued: '已为 {classes} 个班级的 {n} 名学生生成绑定码',
  print: '打印绑定码单',
  sheetTitle: '家长绑定码',
  sheetIntro: '家长请打开统一门户的“家长注册”页面（扫描右侧二维码），输入孩子的学籍号和下表中的绑定码，设置自己的账号和密码，即可绑定孩子。每个绑定码仅可使用一次，有效期至 {d}。请勿将绑定码交给他人。',
  no: '序号',
  name: '学生姓名',
  studentNo: '学籍号（部分隐藏）',
  code: '绑定码',
  qr: '家长注册',
  empty: '没有可打印的绑定码单（绑定码只在生成后显示一次）。',
  back: '返回账号开通',
  noStudents: '本班没有在读学生',
  onceWarn: '绑定码只显示这一次（离开或刷新本页后无法再查看），请立即打印。遗失后只能重新生成。',
};
export const bindSheetEn = {
  title: 'Parent binding codes by class',
  intro: 'Issues a parent binding code for every student of each class under the chosen school, grade or class, to print one page per class for the parents. The codes are shown this once; issuing again makes the students\' earlier codes useless.',
  issue: 'Issue codes for whole classes',
  confirm: 'New binding codes for every student of {name}; every code issued before stops working. Continue?',
  issued: 'Codes issued for {n} students in {classes} classes',
  print: 'Print binding-code sheets',
  sheetTitle: 'Parent binding codes',
  sheetIntro: 'Parents: open "Parent registration" on the portal (scan the QR code), enter your child\'s student number and the binding code below, and choose your login and password. Each code works once, until {d}. Do not pass the code on.',
  no: 'No.',
  name: 'Student',
  studentNo: 'Student number (partly hidden)',
  code: 'Binding code',
  qr: 'Parent registration',
  empty: 'No sheets to print (codes are shown once, right after issuing).',
  back: 'Back to activation',
  noStudents: 'No students in this class',
  onceWarn: 'The codes are shown this once only (not after leaving or reloading this page): print the sheets now. Lost codes can only be issued again.',
};

/* The registration cards on the portal home. */
export const regCardsZh = {
  title: '注册率',
  teachers: '教师注册率',
  students: '学生注册率',
  parents: '家长注册率',
  activated: '已激活 {p}',
  details: '逐级查看明细',
};
export const regCardsEn = {
  title: 'Registration rate',
  teachers: 'Teachers registered',
  students: 'Students registered',
  parents: 'Parents registered',
  activated: '{p} activated',
  details: 'Drill down by unit',
};

/* Error codes of the second factor, for when the server sends no message of its own. */
export const totpErrorsZh = {
  otp_required: '请输入两步验证码',
  bad_otp: '验证码错误或已使用，请输入验证器应用中的最新验证码',
  must_enrol_totp: '管理员账号须先启用两步验证',
  totp_already_enabled: '两步验证已开启',
  totp_required: '管理员账号不能关闭两步验证',
};
export const totpErrorsEn = {
  otp_required: 'Please enter your two-step verification code',
  bad_otp: 'Wrong or already used code; enter the latest code of your authenticator app',
  must_enrol_totp: 'Administrator accounts must set up two-step verification first',
  totp_already_enabled: 'Two-step verification is already on',
  totp_required: 'Administrator accounts cannot turn off two-step verification',
};
