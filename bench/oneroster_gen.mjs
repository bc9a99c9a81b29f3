// Writes a valid, city-sized OneRoster 1.1 CSV package (bulk) into a directory:
//   node bench/oneroster_gen.mjs OUT_DIR [--students N] [--teachers N] [--classes N] [--schools N]
// Defaults follow the demo city (docs/BENCHMARKS.md): 1,336 schools, 20,000 classes, 800,000
// students and 50,000 teachers (850,000 users), each student in one class and ten teachers per
// class (1,000,000 enrolments). Deterministic: the same arguments give the same bytes.
import fs from 'node:fs';
import path from 'node:path';

const args = process.argv.slice(2);
const out = args[0];
if (!out) {
  console.error('usage: node bench/oneroster_gen.mjs OUT_DIR [--students N] [--teachers N] [--classes N] [--schools N]');
  process.exit(2);
}
function opt(name, def) {
  const i = args.indexOf(`--${name}`);
  return i > 0 ? Number.parseInt(args[i + 1], 10) : def;
}
const STUDENTS = opt('students', 800000);
const TEACHERS = opt('teachers', 50000);
const CLASSES = opt('classes', 20000);
const SCHOOLS = opt('schools', 1336);
const DISTRICTS = 9;
const TEACHERS_PER_CLASS = 10;
const GRADES = ['01', '02', '03', '04', '05', '06', '07', '08', '09', '10', '11', '12'];
const FAMILY = ['王', '李', '张', '刘', '陈', '杨', '黄', '赵', '吴', '周'];
const GIVEN = ['伟', '芳', '娜', '敏', '静', '磊', '洋', '勇', '艳', '杰', '娟', '涛'];

fs.mkdirSync(out, { recursive: true });

/* Rows are joined into ~1 MiB strings before each write: one syscall per megabyte. */
function writer(name, header) {
  const fd = fs.openSync(path.join(out, name), 'w');
  let buf = `${header}\n`;
  return {
    row(line) {
      buf += `${line}\n`;
      if (buf.length > 1 << 20) { fs.writeSync(fd, buf); buf = ''; }
    },
    close() { fs.writeSync(fd, buf); fs.closeSync(fd); },
  };
}

const FILES = ['academicSessions', 'categories', 'classes', 'classResources', 'courses', 'courseResources',
  'demographics', 'enrollments', 'lineItems', 'orgs', 'resources', 'results', 'users'];
const PRESENT = new Set(['orgs', 'academicSessions', 'courses', 'classes', 'users', 'enrollments']);
const m = writer('manifest.csv', 'propertyName,value');
m.row('manifest.version,1.0');
m.row('oneroster.version,1.1');
for (const f of FILES) m.row(`file.${f},${PRESENT.has(f) ? 'bulk' : 'absent'}`);
m.row('source.systemName,edubrain bench');
m.close();

const orgs = writer('orgs.csv', 'sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId');
orgs.row('org-city,,,市教育局,district,,');
for (let d = 0; d < DISTRICTS; d++) orgs.row(`org-d${d},,,第${d + 1}区教育局,local,,org-city`);
for (let s = 0; s < SCHOOLS; s++) {
  orgs.row(`org-s${s},,,"第${s + 1}学校, 本部",school,44${String(1000000 + s).padStart(8, '0')},org-d${s % DISTRICTS}`);
}
orgs.close();

const sessions = writer('academicSessions.csv',
  'sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear');
sessions.row('as-2025,,,2025-2026学年,schoolYear,2025-09-01,2026-07-15,,2026');
sessions.row('as-2025-1,,,第一学期,semester,2025-09-01,2026-01-20,as-2025,2026');
sessions.row('as-2025-2,,,第二学期,semester,2026-02-20,2026-07-15,as-2025,2026');
sessions.close();

/* One course per school and grade that has classes. */
const courses = writer('courses.csv',
  'sourcedId,status,dateLastModified,schoolYearSourcedId,title,courseCode,grades,orgSourcedId,subjects,subjectCodes');
const courseOf = (c) => `crs-s${c % SCHOOLS}-g${Math.floor(c / SCHOOLS) % GRADES.length}`;
const seenCourse = new Set();
for (let c = 0; c < CLASSES; c++) {
  const id = courseOf(c);
  if (seenCourse.has(id)) continue;
  seenCourse.add(id);
  const g = GRADES[Math.floor(c / SCHOOLS) % GRADES.length];
  courses.row(`${id},,,as-2025,${g}年级,${g},${g},org-s${c % SCHOOLS},语文,`);
}
courses.close();

const classes = writer('classes.csv',
  'sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods');
for (let c = 0; c < CLASSES; c++) {
  const g = GRADES[Math.floor(c / SCHOOLS) % GRADES.length];
  classes.row(`cls-${c},,,${g}年级${c}班,${g},${courseOf(c)},${c},homeroom,教学楼${c % 50},org-s${c % SCHOOLS},"as-2025-1,as-2025-2",,,`);
}
classes.close();

const users = writer('users.csv',
  'sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password');
for (let t = 0; t < TEACHERS; t++) {
  users.row(`usr-t${t},,,true,org-s${t % SCHOOLS},teacher,t${t},{LDAP:t${t}},${GIVEN[t % 12]},${FAMILY[t % 10]},,T${t},t${t}@school.example,,,,,`);
}
/* Student i is in class i % CLASSES, so at the class's school. */
for (let i = 0; i < STUDENTS; i++) {
  const c = i % CLASSES;
  const g = GRADES[Math.floor(c / SCHOOLS) % GRADES.length];
  users.row(`usr-s${i},,,true,org-s${c % SCHOOLS},student,s${i},,${GIVEN[i % 12]},${FAMILY[i % 10]},,G${String(i).padStart(12, '0')},,,,,${g},`);
}
users.close();

const enr = writer('enrollments.csv',
  'sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate');
for (let i = 0; i < STUDENTS; i++) {
  const c = i % CLASSES;
  enr.row(`enr-s${i},,,cls-${c},org-s${c % SCHOOLS},usr-s${i},student,,2025-09-01,`);
}
/* Teachers of school s are s, s + SCHOOLS, s + 2 * SCHOOLS, ... */
for (let c = 0; c < CLASSES; c++) {
  const s = c % SCHOOLS;
  const n = Math.floor((TEACHERS - 1 - s) / SCHOOLS) + 1;
  for (let k = 0; k < TEACHERS_PER_CLASS; k++) {
    const t = s + SCHOOLS * ((Math.floor(c / SCHOOLS) + k) % n);
    enr.row(`enr-t${c}-${k},,,cls-${c},org-s${s},usr-t${t},teacher,${k === 0},2025-09-01,`);
  }
}
enr.close();
console.log(`${out}: ${SCHOOLS} schools, ${CLASSES} classes, ${STUDENTS + TEACHERS} users, `
  + `${STUDENTS + CLASSES * TEACHERS_PER_CLASS} enrollments`);
