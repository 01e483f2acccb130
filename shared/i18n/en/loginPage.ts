/** The login screen and the new-profile dialog. */
export default {
  subtitle: 'Log in to a local profile',
  profile: 'Profile',
  noProfile: 'No profile yet: create one',
  password: 'Password',
  submit: 'Log in',
  newProfile: '+ New profile',
  devMode: 'Development mode',
  devModeHint: '(logs in the profile “dev”)',
  create: {
    title: 'New profile',
    name: 'Name',
    password: 'Password',
    repeat: 'Repeat password',
    submit: 'Create profile',
    differ: 'The two passwords differ.',
  },
};
