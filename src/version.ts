/** The Redis version sabre answers as (INFO, HELLO, fatal config reports): the one whose behaviour it matches. */
export const SERVER_VERSION = '7.0.15';
