/* Every unit-test group; main.c runs them in this order. */
EB_TEST(core)
EB_TEST(json)
EB_TEST(http)
EB_TEST(registry_ids)
EB_TEST(store)
EB_TEST(auth)
EB_TEST(demo)
EB_TEST(store_pg)
