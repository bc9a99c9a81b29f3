// Finds the ids of the demo city through the API (never hard-coded): the demo accounts' orgs
// and people, and objects in the other district that those accounts must not see.
import assert from 'node:assert/strict';
import { loginAs, listAll, expectStatus } from './server.mjs';

export const ROLE_LOGINS = ['admin', 'district1', 'school1', 'teacher1', 'student1', 'parent1', 'analyst1'];

function roleOrg(session, role) {
  const g = session.roles.find((r) => r.role === role);
  assert.ok(g, `${session.user.login} has no ${role} role: ${JSON.stringify(session.roles)}`);
  return g.org;
}

async function children(admin, id, kind) {
  const items = await listAll(admin, `/api/v1/orgs/${id}/children`, 500);
  return kind ? items.filter((o) => o.kind === kind) : items;
}

/** The first class under a school (through its grades) that has current students. */
async function classWithStudents(admin, schoolId, skip = new Set()) {
  for (const grade of await children(admin, schoolId, 'grade')) {
    for (const cls of await children(admin, grade.id, 'class')) {
      if (skip.has(cls.id)) continue;
      const res = expectStatus(await admin.get(`/api/v1/orgs/${cls.id}/people?role=student&limit=5`), 200);
      if (res.json.items.length >= 2) return { cls, grade, students: res.json.items };
    }
  }
  return null;
}

/**
 * Logs in every demo account and walks the tree. Returns { clients: {login: Client}, ids }
 * where ids holds city, districtA/B, schoolA (school1's), schoolA2 (another school of
 * districtA), schoolB, gradeA, classA (student1's class), classB, student1, classmate, parent1,
 * teacher1 (person ids), personB (a student of classB), enrolmentB, teacherB, postB.
 */
export async function discoverCity(base) {
  const clients = {};
  for (const login of ROLE_LOGINS) clients[login] = await loginAs(base, login);
  const admin = clients.admin;
  const ids = {};
  ids.city = roleOrg(admin.session, 'city_admin').id;
  const districts = await children(admin, ids.city, 'district');
  assert.ok(districts.length >= 2, `the small demo city should have 2 districts, has ${districts.length}`);
  ids.districtA = roleOrg(clients.district1.session, 'district_admin').id;
  ids.districtB = districts.find((d) => d.id !== ids.districtA).id;
  ids.schoolA = roleOrg(clients.school1.session, 'school_admin').id;
  const schoolsA = await children(admin, ids.districtA, 'school');
  assert.ok(schoolsA.some((s) => s.id === ids.schoolA), 'school1\'s school is not in district1\'s district');
  const a2 = schoolsA.find((s) => s.id !== ids.schoolA);
  assert.ok(a2, 'district A should have a second school');
  ids.schoolA2 = a2.id;

  ids.student1 = clients.student1.session.user.person_id;
  ids.parent1 = clients.parent1.session.user.person_id;
  ids.teacher1 = clients.teacher1.session.user.person_id;
  for (const k of ['student1', 'parent1', 'teacher1']) {
    assert.ok(Number.isInteger(ids[k]), `${k} account is not linked to a person`);
  }
  const s1 = expectStatus(await admin.get(`/api/v1/people/${ids.student1}`), 200).json;
  const cur = s1.enrolments.filter((e) => e.end_date === null);
  assert.equal(cur.length, 1, 'student1 should have one current enrolment');
  ids.classA = cur[0].class.id;
  ids.enrolmentA = cur[0].id;
  const classA = expectStatus(await admin.get(`/api/v1/orgs/${ids.classA}`), 200).json;
  ids.gradeA = classA.parent_id;
  assert.ok(classA.path.includes(`/${ids.schoolA}/`), 'student1\'s class is not in school1\'s school');
  const mates = await listAll(admin, `/api/v1/orgs/${ids.classA}/people?role=student`, 500);
  const mate = mates.find((p) => p.id !== ids.student1);
  assert.ok(mate, 'student1 has no classmate');
  ids.classmate = mate.id;

  const schoolsB = await children(admin, ids.districtB, 'school');
  let found = null;
  for (const s of schoolsB) {
    found = await classWithStudents(admin, s.id);
    if (found) {
      ids.schoolB = s.id;
      break;
    }
  }
  assert.ok(found, 'no class with students in district B');
  ids.gradeB = found.grade.id;
  ids.classB = found.cls.id;
  ids.personB = found.students[0].id;
  const pB = expectStatus(await admin.get(`/api/v1/people/${ids.personB}`), 200).json;
  ids.enrolmentB = pB.enrolments.find((e) => e.end_date === null).id;
  const teachersB = await listAll(admin, `/api/v1/orgs/${ids.schoolB}/people?role=teacher`, 500);
  for (const t of teachersB) {
    const p = expectStatus(await admin.get(`/api/v1/people/${t.id}`), 200).json;
    const post = p.posts.find((x) => x.end_date === null && x.school.id === ids.schoolB);
    if (post) {
      ids.teacherB = t.id;
      ids.postB = post.id;
      break;
    }
  }
  assert.ok(ids.postB, 'no teacher with a current post in school B');
  return { clients, ids };
}
