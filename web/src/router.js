// Routes of the UI; every page but login needs a session, a 401 anywhere returns to login.
import { createRouter, createWebHistory } from 'vue-router';
import { session, loadSession, setUnauthenticatedHandler, setMustEnrolHandler } from './api.js';
import LoginView from './views/LoginView.vue';
import PortalView from './views/PortalView.vue';
import OrgView from './views/OrgView.vue';
import PersonView from './views/PersonView.vue';
import AuditView from './views/AuditView.vue';
import AccountsView from './views/AccountsView.vue';
import PasswordView from './views/PasswordView.vue';
import NotFoundView from './views/NotFoundView.vue';
import ActivationView from './views/ActivationView.vue';
import ActivationSheetView from './views/ActivationSheetView.vue';
import RegistrationView from './views/RegistrationView.vue';
import ParentRegisterView from './views/ParentRegisterView.vue';
import SecurityView from './views/SecurityView.vue';
import BindingSheetView from './views/BindingSheetView.vue';
import SchoolYearsView from './views/SchoolYearsView.vue';
import ClassesView from './views/ClassesView.vue';
import PromotionView from './views/PromotionView.vue';
import TransferInboxView from './views/TransferInboxView.vue';
import TransferView from './views/TransferView.vue';
import TeacherExchangeView from './views/TeacherExchangeView.vue';
import RosterImportView from './views/RosterImportView.vue';
import QualityView from './views/QualityView.vue';
import OneRosterImportView from './views/OneRosterImportView.vue';
import { isReporter } from './brain/api.js';
/* The brain's pages load on first use: ECharts stays out of the portal's bundle. */
const DashboardView = () => import('./views/DashboardView.vue');
const EduMapView = () => import('./views/EduMapView.vue');
const IndicatorsView = () => import('./views/IndicatorsView.vue');
const DataElementsView = () => import('./views/DataElementsView.vue');

export const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: '/login', name: 'login', component: LoginView, meta: { public: true } },
    { path: '/', name: 'portal', component: PortalView },
    { path: '/orgs', name: 'orgs-root', component: OrgView },
    { path: '/orgs/:id(\\d+)', name: 'org', component: OrgView, props: true },
    { path: '/people/:id(\\d+)', name: 'person', component: PersonView, props: true },
    { path: '/audit', name: 'audit', component: AuditView },
    { path: '/accounts', name: 'accounts', component: AccountsView },
    { path: '/password', name: 'password', component: PasswordView },
    { path: '/activation', name: 'activation', component: ActivationView },
    { path: '/activation/sheet', name: 'activation-sheet', component: ActivationSheetView },
    { path: '/registration/:id(\\d+)?', name: 'registration', component: RegistrationView, props: true },
    { path: '/security', name: 'security', component: SecurityView },
    { path: '/school-years', name: 'school-years', component: SchoolYearsView },
    { path: '/classes/:id(\\d+)?', name: 'classes', component: ClassesView, props: true },
    { path: '/promotion/:id(\\d+)?', name: 'promotion', component: PromotionView, props: true },
    { path: '/transfers', name: 'transfers', component: TransferInboxView },
    { path: '/transfers/:id(\\d+)', name: 'transfer', component: TransferView, props: true },
    { path: '/teacher-exchanges', name: 'teacher-exchanges', component: TeacherExchangeView },
    { path: '/roster-import', name: 'roster-import', component: RosterImportView },
    { path: '/quality/:id(\\d+)?', name: 'quality', component: QualityView, props: true },
    { path: '/oneroster-import', name: 'oneroster-import', component: OneRosterImportView },
    { path: '/binding/sheet', name: 'binding-sheet', component: BindingSheetView },
    { path: '/brain/:id(\\d+)?', name: 'brain', component: DashboardView, props: true },
    { path: '/brain/map/:id(\\d+)?', name: 'brain-map', component: EduMapView, props: true },
    { path: '/brain/indicators', name: 'brain-indicators', component: IndicatorsView },
    { path: '/brain/elements', name: 'brain-elements', component: DataElementsView },
    { path: '/brain/upload', name: 'brain-upload', component: () => import('./views/ObservationsUploadView.vue'), meta: { reporters: true } },
    { path: '/parent-register', name: 'parent-register', component: ParentRegisterView, meta: { public: true } },
    { path: '/:rest(.*)*', name: 'not-found', component: NotFoundView, meta: { public: true } },
  ],
  scrollBehavior() {
    return { top: 0 };
  },
});

router.beforeEach(async (to) => {
  if (!session.checked) {
    try {
      await loadSession();
    } catch (e) {
      /* The server is unreachable; let the page show its own error. */
    }
  }
  if (to.meta.public) {
    /* reauth: an app asked for a fresh login (prompt=login, max_age). */
    if (to.name === 'login' && session.me && !to.query.reauth) return { name: 'portal' };
    return true;
  }
  if (!session.me) return { name: 'login', query: to.fullPath !== '/' ? { next: to.fullPath } : {} };
  /* First login with a one-time code (or after a reset): choosing a password comes first. */
  if (session.me.user.must_change_password && to.name !== 'password') return { name: 'password' };
  /* An administrator without a second factor under the "required" policy: the API answers
   * every other route with 403 must_enrol_totp, so enrolment comes next (after the password). */
  if (session.me.user.must_enrol_totp && !session.me.user.must_change_password && to.name !== 'security') {
    return { name: 'security', query: to.fullPath !== '/' ? { next: to.fullPath } : {} };
  }
  /* Pages for the roles that report observations (the API answers the others 403 anyway). */
  if (to.meta.reporters && !isReporter(session.me)) return { name: 'portal' };
  return true;
});

setUnauthenticatedHandler(() => {
  const cur = router.currentRoute.value;
  if (cur.name !== 'login') {
    router.replace({ name: 'login', query: cur.fullPath !== '/' ? { next: cur.fullPath } : {} });
  }
});

setMustEnrolHandler(() => {
  const cur = router.currentRoute.value;
  if (cur.name !== 'security') router.replace({ name: 'security' });
});
